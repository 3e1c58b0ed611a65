"""OCR in the extraction sandbox, as the `extract.document` task runs it: a scanned multi-page filing
extracts at the default memory limit with room to spare, and OCR past a small limit is the final
"resource limit exceeded" (onnxruntime's `std::bad_alloc`), not a task error retried five times."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.core.config import Settings
from app.documents.sandboxed import local_page_text
from app.documents.tasks import sandbox_limits
from app.jobs.retry import is_retryable
from app.jobs.sandbox import SandboxLimitError, SandboxLimits, run_sandboxed
from tests import pdfs
from tests.extraction.numbers import number_hits
from tests.jobs import sandbox_targets as targets

pytestmark = pytest.mark.slow

MiB = 1024**2
# Two OCR threads peak at about 1.1 GB of private memory (what RLIMIT_DATA counts) on a scanned annual
# report and on these three pages alike; the default limit must keep 30 % of itself to spare.
PEAK_SHARE = 0.7


async def test_a_scanned_filing_extracts_at_the_default_memory_limit(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(job_timeout_seconds=1200.0)
    limits = sandbox_limits(settings)
    assert limits.memory_bytes == Settings.model_fields["sandbox_memory_bytes"].default
    statements = [pdfs.income_statement(), pdfs.balance_sheet(), pdfs.income_statement(dash="-")]
    scan = pdfs.scanned_pdf(pdfs.statement_pdf(*statements))

    measured = await run_sandboxed(targets.extract_measured, scan, settings.max_pdf_pages, limits=limits)

    pages = measured["pages"]
    assert [page.page for page in pages] == [1, 2, 3] and all(page.ocr for page in pages)
    for statement, page in zip(statements, pages, strict=True):
        hits, total, missing = number_hits(statement.truth(), page.text)
        assert hits == total, (page.page, missing)
    peak_rss, peak_data = measured["peak_rss"], measured["peak_data"]
    print(f"\npeak RSS {peak_rss // MiB} MiB, private {peak_data // MiB} MiB of {limits.memory_bytes // MiB}")
    assert peak_rss < PEAK_SHARE * limits.memory_bytes
    assert peak_data < PEAK_SHARE * limits.memory_bytes


async def test_ocr_past_its_memory_limit_is_the_final_resource_limit() -> None:
    scan = pdfs.scanned_pdf(pdfs.statement_pdf(pdfs.income_statement()))
    limits = SandboxLimits(memory_bytes=400 * MiB)
    with pytest.raises(SandboxLimitError, match="resource limit exceeded: memory 400 MiB") as caught:
        await run_sandboxed(local_page_text, scan, [1], 50, limits=limits)
    assert not is_retryable(caught.value)
    assert "Traceback" not in str(caught.value)
