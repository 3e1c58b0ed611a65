"""Page selections as people type them (`--pages`, the upload's `pages` field), read and described."""

from __future__ import annotations

import pytest

from app.extraction.pages import MAX_SELECTED_PAGES, PageSpecError, describe_pages, parse_page_spec


@pytest.mark.parametrize(
    ("spec", "pages"),
    [
        ("39-44,50", [39, 40, 41, 42, 43, 44, 50]),
        (" 50, 39 - 41 ,", [39, 40, 41, 50]),
        ("7,7,6-7", [6, 7]),
        ("", []),
        (" , ", []),
        ("007", [7]),
    ],
)
def test_readable_selections(spec: str, pages: list[int]) -> None:
    assert parse_page_spec(spec) == pages


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("abc", "Cannot read the page range 'abc'"),
        ("²", "Cannot read"),  # str.isdigit() says yes, int() says no: it used to be a 500
        ("١٢", "Cannot read"),  # Arabic-Indic digits
        ("1.5", "Cannot read"),
        ("-3", "Cannot read"),
        ("3-", "Cannot read"),
        ("9" * 5000, "too large"),  # past Python's int-string limit: it used to be a 500
        ("1-99999999", "too large"),
        ("0", "numbered from 1"),
        ("3-1", "runs backwards"),
        (f"1-{MAX_SELECTED_PAGES + 1}", f"At most {MAX_SELECTED_PAGES} pages"),
        (",".join(str(n) for n in range(1, MAX_SELECTED_PAGES + 2)), f"At most {MAX_SELECTED_PAGES}"),
    ],
)
def test_unreadable_selections_say_why(spec: str, reason: str) -> None:
    with pytest.raises(PageSpecError, match=reason.replace("(", r"\(")):
        parse_page_spec(spec)


def test_describe_merges_runs() -> None:
    assert describe_pages([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert describe_pages(range(500, 601)) == "500-600"


def test_a_huge_part_is_not_echoed_whole() -> None:
    with pytest.raises(PageSpecError) as raised:
        parse_page_spec("9" * 5000)
    assert len(str(raised.value)) < 100 and "'99999999999999999999...'" in str(raised.value)
