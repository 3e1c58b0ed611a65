"""The `extract.document` task: a stored PDF → verified statements, stored atomically and fenced.

Input: job args `{"document_id": ...}`; the document's blob, engine and page selection. Output: the
document's statements replaced as one set, and the job completed, in ONE transaction fenced by the
job's token, so a worker whose lease was taken can never overwrite the new owner's work.
Invariants: PDF parsing, OCR, detection and parsing run in sandboxed child processes (memory, CPU
and wall-clock limits), never on the worker's event loop; no transaction is open while they run;
progress is reported per stage (text, analyse, store).
"""

from __future__ import annotations

import uuid
from typing import Any

from app.core.config import Settings, get_settings
from app.documents.models import Document
from app.documents.sandboxed import analyse_pages, candidate_pages, local_page_text
from app.documents.service import EXTRACT_TASK, build_blob_store
from app.extraction.cache import usage_attribution
from app.extraction.choose import EngineConfigError, open_source, resolve_engine
from app.jobs.retry import TerminalError
from app.jobs.sandbox import SandboxLimits, run_sandboxed
from app.jobs.tasks import TaskContext, task
from app.statements.format import Statement
from app.statements.service import replace_statements

STAGE_PERCENT = {"text": 10, "analyse": 60, "store": 90}


class DocumentGoneError(TerminalError):
    code = "document_not_found"


def _settings(ctx: TaskContext) -> Settings:
    return getattr(ctx, "settings", None) or get_settings()


def sandbox_limits(settings: Settings) -> SandboxLimits:
    wall = min(settings.sandbox_wall_seconds, settings.job_timeout_seconds)
    return SandboxLimits(
        memory_bytes=settings.sandbox_memory_bytes,
        cpu_seconds=max(1, min(settings.sandbox_cpu_seconds, int(wall))),
        wall_seconds=wall,
    )


async def _page_text(ctx: TaskContext, document: Document, pdf: bytes, settings: Settings) -> list[Any]:
    try:
        engine = resolve_engine(document.engine, settings)
    except EngineConfigError as error:
        raise TerminalError(str(error)) from error
    if engine == "local":
        return await run_sandboxed(
            local_page_text, pdf, document.pages, settings.max_pdf_pages, limits=sandbox_limits(settings)
        )
    # The cheap pass parses the PDF with PDFium (and OCRs title bands): in the sandbox, like any
    # PDF work, so a bomb fails its own job. LLMWhisperer does network I/O and caches through the
    # database: it runs here, asynchronously.
    wanted = document.pages or await run_sandboxed(
        candidate_pages, pdf, settings.max_pdf_pages, limits=sandbox_limits(settings)
    )
    if not wanted:
        return []
    with usage_attribution(document_id=document.id, user_id=document.owner_id):
        async with open_source(engine, settings, sessionmaker=ctx.sessionmaker) as source:
            return await source.pages(pdf, wanted)


@task(EXTRACT_TASK)
async def extract_document(ctx: TaskContext) -> dict[str, Any]:
    """Read, analyse and store one document's statements; the job's result summarises them."""
    settings = _settings(ctx)
    document_id = uuid.UUID(str(ctx.args["document_id"]))
    async with ctx.sessionmaker() as session:
        document = await session.get(Document, document_id)
        if document is None:
            raise DocumentGoneError(f"document {document_id} no longer exists")
        pdf = await build_blob_store(settings).get(session, document.sha256)
    await ctx.set_progress(STAGE_PERCENT["text"], "text")
    pages = await _page_text(ctx, document, pdf, settings)
    await ctx.set_progress(STAGE_PERCENT["analyse"], "analyse")
    found = await run_sandboxed(analyse_pages, pages, limits=sandbox_limits(settings)) if pages else []
    await ctx.set_progress(STAGE_PERCENT["store"], "store")
    statements = [Statement.model_validate(s) for s in found]
    result = {
        "document_id": str(document_id),
        "statements": len(statements),
        "verified": sum(s.verified for s in statements),
        "types": [s.type for s in statements],
    }
    async with ctx.transaction() as session:
        ids = await replace_statements(session, document_id, statements, fence=ctx.lease)
        result["statement_ids"] = [str(i) for i in ids]
        await ctx.complete(session, result)
    return result
