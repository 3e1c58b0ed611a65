"""Every hand-checked value of ../shared/corpus/truth, through the whole pipeline and every engine."""

from __future__ import annotations

import re

import pytest

from app.extraction.source import PageText
from app.pipeline import extract_from_pages, run_extraction
from tests.corpus.truth import corpus_file, load_truth, score

pytestmark = pytest.mark.corpus

SCANNED = [
    "nvidia-fy2020-income-statement-scanned",
    "nvidia-fy2020-comprehensive-income-scanned",
    "nvidia-fy2020-balance-sheet-scanned",
    "nvidia-fy2020-cashflow-statement-scanned",
    "nvidia-fy2020-shareholder-equity-scanned",
]


def whisper_pages(name: str, first_page: int, mode: str) -> list[PageText]:
    text = corpus_file("whisper", name).read_text()
    if text.startswith("#"):  # the recording's own header, not LLMWhisperer output
        text = re.split(r"^=+\s*$", text, maxsplit=1, flags=re.M)[1]
    chunks = text.split("<<<")
    return [
        PageText(page=first_page + n, text=chunk.strip("\f\n"), engine="llmwhisperer", mode=mode)
        for n, chunk in enumerate(chunks)
        if chunk.strip()
    ]


def assert_exact_and_verified(statements, truth: dict, capsys) -> None:
    result = score(statements, truth)
    with capsys.disabled():
        print(f"\n{truth['document']}: {result}")
    assert result.silent == 0, result.misses
    assert result.exact == result.total, result.misses[:20]
    for expected in truth["statements"]:
        found = [s for s in statements if s.type == expected["type"]]
        assert found and found[0].pages == expected["pages"], (expected["type"], [s.pages for s in found])
        assert found[0].verified, [c for c in found[0].checks if not c.ok][:5]


async def test_nvidia_10k_local_engine(capsys):
    from app.extraction.local_source import LocalTextSource

    pdf = corpus_file("pdf", "nvidia-10k-fy2020.pdf").read_bytes()
    result = await run_extraction(pdf, source=LocalTextSource())
    assert_exact_and_verified(result.statements, load_truth("nvidia-10k-fy2020"), capsys)


@pytest.mark.parametrize(
    ("name", "first_page"),
    [("nvidia-10k-fy2020-statements-table.txt", 39)],
)
def test_nvidia_10k_llmwhisperer_table_mode(name, first_page, capsys):
    pages = whisper_pages(name, first_page, "grid")
    result = extract_from_pages(pages)
    assert_exact_and_verified(result.statements, load_truth("nvidia-10k-fy2020"), capsys)


def test_nvidia_10k_llmwhisperer_single_page_tables(capsys):
    files = [
        ("p39-income", 39),
        ("p40-comprehensive", 40),
        ("p41-balance", 41),
        ("p42-equity", 42),
        ("p43-cashflow", 43),
        ("p44-cashflow", 44),
    ]
    pages = [
        p for stem, page in files for p in whisper_pages(f"nvidia-10k-fy2020-{stem}-table.txt", page, "grid")
    ]
    result = extract_from_pages(pages)
    assert_exact_and_verified(result.statements, load_truth("nvidia-10k-fy2020"), capsys)


@pytest.mark.parametrize("name", SCANNED)
def test_scanned_pages_llmwhisperer_layout_mode(name, capsys):
    pages = whisper_pages(f"{name}-layout.txt", 1, "layout")
    result = extract_from_pages(pages)
    assert_exact_and_verified(result.statements, load_truth(name), capsys)


def test_mdna_pages_are_not_statements():
    pages = whisper_pages("nvidia-10k-fy2020-p28-31-layout.txt", 28, "layout")
    assert extract_from_pages(pages).statements == []


@pytest.mark.slow
@pytest.mark.parametrize("name", SCANNED)
async def test_scanned_pages_through_ocr(name, capsys):
    """OCR: at least 98% exact, and every wrong value sits in a statement that is not verified."""
    from app.extraction.local_source import LocalTextSource

    pdf = corpus_file("pdf", f"{name}.pdf").read_bytes()
    result = await run_extraction(pdf, source=LocalTextSource())
    truth = load_truth(name)
    outcome = score(result.statements, truth)
    with capsys.disabled():
        print(f"\n{name} (OCR): {outcome}")
    assert outcome.silent == 0, outcome.misses
    assert outcome.rate >= 0.98, outcome.misses[:20]
