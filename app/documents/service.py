"""Documents: accept an upload (blob + document + extraction job in one transaction), read, list, delete.

Input: a `ReceivedUpload` already checked by `upload.py`, and the request's session. Output: rows
flushed in that session (the request dependency commits once). Invariants: an accepted upload always
has its blob, its document and its job, or none of them; blobs are shared by content and removed only
when no document uses them; a replayed `Idempotency-Key` returns the first answer unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import anyio
from sqlalchemy import Select, exists, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import API_PREFIX
from app.core.config import Settings
from app.core.errors import ConflictError, NotFoundError, TieoutError
from app.documents.blobs import BlobStore, FolderBlobStore, PostgresBlobStore
from app.documents.models import Document, IdempotencyKey
from app.documents.schemas import DocumentFilters, DocumentPage, DocumentRead, UploadAccepted, UploadOptions
from app.documents.upload import ReceivedUpload, UploadError, UploadLimits, not_a_pdf, sanitize_filename
from app.extraction.choose import EngineConfigError, resolve_engine
from app.extraction.errors import PDF_NOT_PDF, PdfError
from app.extraction.pdf import check_page_numbers, page_count
from app.jobs.models import Job
from app.jobs.queue import enqueue
from app.statements.models import StatementRecord

EXTRACT_TASK = "extract.document"

_CLAIM_KEY = text("""
    INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
    VALUES (:scope, :key, :hash, now() + make_interval(secs => :ttl))
    ON CONFLICT (scope, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL,
            created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at < now()
    RETURNING key
""")
_PURGE_KEYS = text("DELETE FROM idempotency_keys WHERE expires_at < now()")
_DELETE_JOBS = text("DELETE FROM jobs WHERE args ? 'document_id' AND args ->> 'document_id' = :id")


@dataclass(frozen=True)
class UploadAnswer:
    status_code: int
    body: dict[str, Any]
    location: str
    replayed: bool = False


def pdf_error(error: PdfError) -> TieoutError:
    """A PDF the service cannot read becomes a 415 (not a PDF) or a 422 naming the problem."""
    if error.code == PDF_NOT_PDF:
        return not_a_pdf()
    return UploadError(error.code, error.message)


def document_location(document_id: uuid.UUID) -> str:
    return f"{API_PREFIX}/documents/{document_id}"


def encode_cursor(created_at: datetime, document_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(document_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, document_id = json.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(document_id)
    except (ValueError, TypeError) as error:
        raise TieoutError("invalid_cursor", "The cursor is not one this API returned.", 422) from error


def _read_query() -> Select:
    return select(Document, Job.status, Job.progress, Job.stage).outerjoin(Job, Job.id == Document.job_id)


def _to_read(row: Any) -> DocumentRead:
    document, status, progress, stage = row
    read = DocumentRead.model_validate(document)
    return read.model_copy(update={"status": status, "progress": progress, "stage": stage})


class DocumentService:
    """Uploads and documents; built once per process with the settings and the blob store."""

    def __init__(self, settings: Settings, blobs: BlobStore) -> None:
        self.settings = settings
        self.blobs = blobs
        self.limits = UploadLimits(
            max_file_bytes=settings.max_upload_bytes,
            max_field_bytes=settings.max_form_part_bytes,
            max_fields=settings.max_form_fields,
            idle_seconds=settings.upload_idle_seconds,
            total_seconds=settings.upload_total_seconds,
        )

    async def accept_upload(
        self,
        session: AsyncSession,
        upload: ReceivedUpload,
        options: UploadOptions,
        *,
        owner_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> UploadAnswer:
        """Store blob, document and extraction job (flushed, not committed); replay a known key."""
        filename = sanitize_filename(upload.filename)
        self._check_engine(options.engine)
        if idempotency_key is not None:
            request_hash = _request_hash(upload.sha256, filename, options)
            replay = await _claim_idempotency_key(
                session, owner_id, idempotency_key, request_hash, self.settings.idempotency_ttl_seconds
            )
            if replay is not None:
                return replay
        count = await self._count_pages(upload.data, options)
        await self.blobs.put(session, upload.sha256, upload.data)
        document_id = uuid.uuid4()
        # The job first, so the document row is written once, already pointing at it.
        job_id = await enqueue(
            session,
            EXTRACT_TASK,
            {"document_id": str(document_id)},
            max_attempts=self.settings.max_attempts,
            owner_id=owner_id,
        )
        document = Document(
            id=document_id,
            owner_id=owner_id,
            filename=filename,
            sha256=upload.sha256,
            size_bytes=upload.size,
            page_count=count,
            engine=options.engine,
            pages=options.pages,
            job_id=job_id,
        )
        session.add(document)
        await session.flush()
        read = DocumentRead.model_validate(document).model_copy(update={"status": "pending", "progress": 0})
        body = UploadAccepted(document=read, job_id=job_id).model_dump(mode="json")
        answer = UploadAnswer(202, body, document_location(document.id))
        if idempotency_key is not None:
            await _store_idempotent_answer(session, owner_id, idempotency_key, answer)
        return answer

    def _check_engine(self, engine: str | None) -> None:
        """Refuse at once an engine this deployment cannot run (LLMWhisperer without its key), rather
        than accept the upload and fail its job."""
        try:
            resolve_engine(engine, self.settings)
        except EngineConfigError as error:
            raise TieoutError("engine_unavailable", f"Cannot use this engine: {error}.", 422) from error

    async def _count_pages(self, data: bytes, options: UploadOptions) -> int:
        # PDFium is C code holding a process-wide lock: keep it off the event loop.
        try:
            count = await anyio.to_thread.run_sync(
                lambda: page_count(data, max_pages=self.settings.max_pdf_pages)
            )
            if options.pages:
                check_page_numbers(options.pages, count)
        except PdfError as error:
            raise pdf_error(error) from error
        return count

    async def get_document(
        self, session: AsyncSession, document_id: uuid.UUID, *, owner_id: uuid.UUID | None = None
    ) -> DocumentRead:
        """The document with its job status; 404 if absent or not the caller's."""
        query = _read_query().where(
            Document.id == document_id, Document.owner_id.is_not_distinct_from(owner_id)
        )
        row = (await session.execute(query)).first()
        if row is None:
            raise NotFoundError("document_not_found", "No document with this id.")
        return _to_read(row)

    async def list_documents(
        self,
        session: AsyncSession,
        filters: DocumentFilters,
        *,
        limit: int,
        cursor: str | None = None,
        owner_id: uuid.UUID | None = None,
    ) -> DocumentPage:
        """Newest first, `limit` at a time; `next_cursor` continues after the last item."""
        query = _filtered(_read_query(), filters).where(Document.owner_id.is_not_distinct_from(owner_id))
        if cursor:
            at, after_id = decode_cursor(cursor)
            query = query.where(tuple_(Document.created_at, Document.id) < tuple_(at, after_id))
        query = query.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit + 1)
        rows = (await session.execute(query)).all()
        items = [_to_read(row) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
        return DocumentPage(items=items, next_cursor=next_cursor)

    async def reprocess(
        self, session: AsyncSession, document: DocumentRead, *, engine: str | None, owner_id: uuid.UUID | None
    ) -> int:
        """Queue a new extraction of a stored document; its statements are replaced when the job ends."""
        if document.status in ("pending", "running"):
            raise ConflictError("document_busy", "The document's extraction is still running.")
        self._check_engine(engine)
        job_id = await enqueue(
            session,
            EXTRACT_TASK,
            {"document_id": str(document.id)},
            max_attempts=self.settings.max_attempts,
            owner_id=owner_id,
        )
        values: dict[str, object] = {"job_id": job_id}
        if engine is not None:
            values["engine"] = engine
        await session.execute(update(Document).where(Document.id == document.id).values(**values))
        return job_id

    async def read_file(self, session: AsyncSession, document: DocumentRead) -> bytes:
        return await self.blobs.get(session, document.sha256)

    async def delete_document(self, session: AsyncSession, document: DocumentRead) -> None:
        """Remove the document, its statements and jobs; its blob too unless another document uses it."""
        # Jobs first: a worker storing statements holds its job row, and waiting on it here (rather
        # than after locking the document) keeps the two lock orders the same, so no deadlock.
        await session.execute(_DELETE_JOBS, {"id": str(document.id)})
        row = await session.get(Document, document.id)
        if row is not None:
            await session.delete(row)
            await session.flush()
        await self.blobs.delete_if_unused(session, document.sha256)

    async def purge_expired_keys(self, session: AsyncSession) -> int:
        """Delete Idempotency-Keys past their retention window; the count removed."""
        return int((await session.execute(_PURGE_KEYS)).rowcount or 0)


def _filtered(query: Select, filters: DocumentFilters) -> Select:
    if filters.status is not None:
        query = query.where(Job.status == filters.status)
    if filters.type is not None:
        query = query.where(
            exists().where(StatementRecord.document_id == Document.id, StatementRecord.type == filters.type)
        )
    if filters.company:
        pattern = "%" + filters.company.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            exists().where(StatementRecord.document_id == Document.id, StatementRecord.company.ilike(pattern))
        )
    if filters.uploaded_from is not None:
        query = query.where(Document.created_at >= datetime.combine(filters.uploaded_from, time(), UTC))
    if filters.uploaded_to is not None:
        end = datetime.combine(filters.uploaded_to + timedelta(days=1), time(), UTC)
        query = query.where(Document.created_at < end)
    return query


def _request_hash(sha256: str, filename: str, options: UploadOptions) -> str:
    payload = json.dumps([sha256, filename, options.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _scope(owner_id: uuid.UUID | None) -> str:
    return str(owner_id) if owner_id is not None else "anonymous"


async def _claim_idempotency_key(
    session: AsyncSession, owner_id: uuid.UUID | None, key: str, request_hash: str, ttl_seconds: float
) -> UploadAnswer | None:
    """Own the key for this request (None), or the first answer given under it.

    Keys are scoped per owner, so another user's key of the same name is a different key. A
    concurrent request with the same key waits on the INSERT until the first one commits, then reads
    its answer: retries never create a second document. Another body under a key is 422 (IETF
    draft-ietf-httpapi-idempotency-key-header).
    """
    params = {"scope": _scope(owner_id), "key": key, "hash": request_hash, "ttl": ttl_seconds}
    if (await session.execute(_CLAIM_KEY, params)).first() is not None:
        return None
    stored = await session.get(IdempotencyKey, (_scope(owner_id), key), populate_existing=True)
    if stored is not None and stored.request_hash != request_hash:
        raise TieoutError(
            "idempotency_key_reused", "This Idempotency-Key was already used for a different upload.", 422
        )
    if stored is None or stored.response is None or stored.status_code is None:
        raise ConflictError(
            "idempotency_key_in_progress", "A request with this Idempotency-Key is in progress."
        )
    return UploadAnswer(stored.status_code, stored.response, stored.response["location"], replayed=True)


async def _store_idempotent_answer(
    session: AsyncSession, owner_id: uuid.UUID | None, key: str, answer: UploadAnswer
) -> None:
    stored = await session.get(IdempotencyKey, (_scope(owner_id), key))
    assert stored is not None
    stored.status_code = answer.status_code
    stored.response = {**answer.body, "location": answer.location}
    await session.flush()


def build_blob_store(settings: Settings) -> BlobStore:
    """The configured store: PostgreSQL (default) or a folder under the data directory."""
    if settings.blob_store == "folder":
        return FolderBlobStore(settings.blob_dir or settings.data_dir / "blobs")
    return PostgresBlobStore()


def build_document_service(settings: Settings) -> DocumentService:
    return DocumentService(settings, build_blob_store(settings))
