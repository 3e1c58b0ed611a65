"""Statement pages found in real filings (../shared/corpus) against the pages a person read.

The wild filings' expected pages are ../shared/corpus/wild/expected.json; multi-set documents also hold
the second set the corpus README describes. Each test prints one row of the report table.
"""

from __future__ import annotations

import json

import pytest

from app.detection.detect import Detection, detect_statements
from tests.detection.pages import corpus_path, pdf_pages, whisper_pages

pytestmark = pytest.mark.corpus

IS, CI, BS, CF, EQ = (
    "income_statement",
    "comprehensive_income",
    "balance_sheet",
    "cash_flow",
    "shareholders_equity",
)
SHORT = {IS: "IS", CI: "CI", BS: "BS", CF: "CF", EQ: "EQ"}
NVIDIA = {IS: [39], CI: [40], BS: [41], EQ: [42], CF: [43, 44]}
# The wild README's second sets. Seven A.D.'s FY2023 "Statements of Comprehensive Income" holds profit
# or loss and OCI in one statement, which statement-format.md calls an income statement.
SECOND_SETS = {
    "sevenad-afs-2024.pdf": {BS: [31], IS: [32], EQ: [33], CF: [34]},
    "pge-10q-2022q3.pdf": {IS: [50], CI: [51], BS: [52, 53], CF: [54, 55], EQ: [56]},
}
IMAGE_ONLY = ["fanmilk-annual-2024.pdf", "idealmarketing-afs-2022.pdf"]
WILD = [
    "amex-10k-2022.pdf",
    "boeing-10k-2022.pdf",
    "costco-10k-fy2022.pdf",
    "patriot-10k-fy2023.pdf",
    "pge-10q-2022q3.pdf",
    "salesforce-10q-fy2023q3.pdf",
    "sevenad-afs-2024.pdf",
    "xppower-interim-2025h1.pdf",
]


def found_pages(detections: list[Detection]) -> dict[str, list[list[int]]]:
    found: dict[str, list[list[int]]] = {}
    for detection in detections:
        found.setdefault(detection.type, []).append(list(detection.pages))
    return {kind: sorted(pages) for kind, pages in found.items()}


def expected_pages(*sets: dict[str, list[int]]) -> dict[str, list[list[int]]]:
    expected: dict[str, list[list[int]]] = {}
    for statement_set in sets:
        for kind, pages in statement_set.items():
            expected.setdefault(kind, []).append(pages)
    return {kind: sorted(pages) for kind, pages in expected.items()}


def report(capsys, name: str, expected: dict, found: dict) -> None:
    def flat(table: dict) -> set[tuple[str, tuple[int, ...]]]:
        return {(kind, tuple(pages)) for kind, runs in table.items() for pages in runs}

    def show(items) -> str:
        return ", ".join(f"{SHORT[kind]} {'-'.join(map(str, pages))}" for kind, pages in sorted(items))

    misses, extras = flat(expected) - flat(found), flat(found) - flat(expected)
    with capsys.disabled():
        cells = [name, show(flat(expected)), show(flat(found)), show(misses) or "-", show(extras) or "-"]
        print("\n| " + " | ".join(cells) + " |")


@pytest.fixture(scope="module")
def wild_expected() -> dict:
    return json.loads(corpus_path("wild", "expected.json").read_text())


def test_nvidia_10k(capsys) -> None:
    pages = list(pdf_pages(corpus_path("pdf", "nvidia-10k-fy2020.pdf")))
    found = found_pages(detect_statements(pages))
    report(capsys, "nvidia-10k-fy2020.pdf", expected_pages(NVIDIA), found)
    assert found == expected_pages(NVIDIA)


@pytest.mark.parametrize("name", WILD)
def test_wild_filing(name: str, wild_expected: dict, capsys) -> None:
    pages = list(pdf_pages(corpus_path("wild", name)))
    detections = detect_statements(pages)
    expected = expected_pages(wild_expected[name], SECOND_SETS.get(name, {}))
    found = found_pages(detections)
    report(capsys, name, expected, found)
    assert found == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", IMAGE_ONLY)
async def test_image_only_filing_through_ocr(name: str, wild_expected: dict, capsys) -> None:
    """Scans: the local engine's cheap title pass, then OCR of the chosen pages, then detection."""
    from app.extraction.local_source import LocalTextSource

    pdf = corpus_path("wild", name).read_bytes()
    source = LocalTextSource()
    try:
        pages = await source.pages(pdf, await source.candidate_pages(pdf))
    finally:
        source.close()
    expected = expected_pages(wild_expected[name])
    found = found_pages(detect_statements(pages))
    report(capsys, name, expected, found)
    assert found == expected


def test_two_registrants_are_two_sets_named_by_their_headings() -> None:
    detections = detect_statements(list(pdf_pages(corpus_path("wild", "pge-10q-2022q3.pdf"))))
    by_set = {(d.set_index, d.entity) for d in detections}
    assert by_set == {(1, "PG&E CORPORATION"), (2, "PACIFIC GAS AND ELECTRIC COMPANY")}


def test_parent_company_statements_inside_a_note_are_rejected_alternatives() -> None:
    detections = detect_statements(list(pdf_pages(corpus_path("wild", "amex-10k-2022.pdf"))))
    cash_flow = next(d for d in detections if d.type == CF)
    assert [r["page"] for r in cash_flow.evidence["rejected"]] == [157]
    assert all(d.set_index is None and d.entity is None for d in detections)


class TestRecordedWhisperTexts:
    def test_statement_pages_as_pipe_grids(self) -> None:
        pages = whisper_pages(corpus_path("whisper", "nvidia-10k-fy2020-statements-table.txt"), 39)
        assert found_pages(detect_statements(pages)) == expected_pages(NVIDIA)

    def test_mdna_pages_yield_no_statement(self) -> None:
        pages = whisper_pages(corpus_path("whisper", "nvidia-10k-fy2020-p28-31-layout.txt"), 28)
        assert [page.page for page in pages] == [28, 29, 30, 31]
        assert detect_statements(pages) == []

    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("nvidia-10k-fy2020-p39-income-table", IS),
            ("nvidia-10k-fy2020-p40-comprehensive-table", CI),
            ("nvidia-10k-fy2020-p41-balance-table", BS),
            ("nvidia-10k-fy2020-p42-equity-table", EQ),
            ("nvidia-10k-fy2020-p43-cashflow-table", CF),
            ("nvidia-fy2020-income-statement-scanned-layout", IS),
            ("nvidia-fy2020-comprehensive-income-scanned-layout", CI),
            ("nvidia-fy2020-balance-sheet-scanned-layout", BS),
            ("nvidia-fy2020-cashflow-statement-scanned-layout", CF),
            ("nvidia-fy2020-shareholder-equity-scanned-layout", EQ),
        ],
    )
    def test_one_statement_page(self, name: str, kind: str) -> None:
        pages = whisper_pages(corpus_path("whisper", f"{name}.txt"), 1)
        assert [(d.type, d.pages) for d in detect_statements(pages)] == [(kind, (1,))]
