"""`tieout extract`: JSON, CSV and Excel output read back, and the exit codes (0 / 2 / 1)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.statements.format import Item, Statement
from tests.pdfs import income_statement, statement_pdf, text_pdf


@pytest.fixture(scope="module")
def filing(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("filing") / "example.pdf"
    path.write_bytes(statement_pdf(income_statement()))
    return path


def test_json_to_stdout_with_every_value_and_exit_0(filing, capsysbinary):
    assert main(["extract", str(filing), "--engine", "local", "--quiet"]) == 0
    document = json.loads(capsysbinary.readouterr().out)
    assert document["document"]["filename"] == "example.pdf"
    [statement] = document["statements"]
    assert statement["verified"] is True
    rows = {item["label"]: item["values"] for item in statement["items"]}
    assert rows["Revenue"] == ["10918", "11716", "9714"]
    assert rows["Interest expense"] == ["-52", "-58", "-61"]
    assert rows["Restructuring and other charges"] == ["0", "12", "0"]


def test_json_has_every_field_of_the_contract_nulls_included(filing, capsysbinary):
    """The CLI writes the same document as the API: absent values are null, never missing keys."""
    assert main(["extract", str(filing), "--engine", "local", "--quiet"]) == 0
    [statement] = json.loads(capsysbinary.readouterr().out)["statements"]
    assert set(statement) == set(Statement.model_fields)
    for item in statement["items"]:
        assert set(item) == set(Item.model_fields), item["label"]


def test_csv_has_one_row_per_line_and_column(filing, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["extract", str(filing), "--engine", "local", "--quiet", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    revenue = [r for r in rows if r["label"] == "Revenue"]
    assert [(r["period_end"], r["value"]) for r in revenue] == [
        ("2020-01-26", "10918"),
        ("2019-01-27", "11716"),
        ("2018-01-28", "9714"),
    ]
    assert {r["verified"] for r in rows} == {"true"}
    assert all(r["page"] == "1" for r in revenue)


def test_xlsx_sheet_holds_numbers_and_checks_sheet_lists_every_check(filing, tmp_path):
    out = tmp_path / "out.xlsx"
    assert main(["extract", str(filing), "--engine", "local", "--quiet", "-o", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["Income Statement", "Checks", "Sources"]
    sheet = book["Income Statement"]
    labels = {sheet.cell(row=r, column=1).value: r for r in range(6, sheet.max_row + 1)}
    row = labels["Net income"]
    assert [Decimal(str(sheet.cell(row=row, column=c).value)) for c in (2, 3, 4)] == [
        Decimal("2618"),
        Decimal("4005"),
        Decimal("2978"),
    ]
    checks = list(book["Checks"].iter_rows(min_row=2, values_only=True))
    assert checks and all(check[-1] == "ok" for check in checks)


def test_a_document_without_statements_exits_2(tmp_path, capsys):
    path = tmp_path / "letter.pdf"
    path.write_bytes(text_pdf(2, "Dear shareholders, page {n}"))
    assert main(["extract", str(path), "--engine", "local", "-o", str(tmp_path / "o.json")]) == 2
    assert "no financial statements found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["/nonexistent/x.pdf"], "No such file", id="missing file"),
        pytest.param(["{filing}", "--pages", "3-1"], "not a valid page range", id="backwards page range"),
        pytest.param(["{filing}", "--format", "xlsx"], "xlsx output needs -o", id="xlsx to stdout"),
        pytest.param(["{notpdf}"], "not a PDF", id="not a PDF"),
    ],
)
def test_errors_are_one_line_and_exit_1(args, message, filing, tmp_path, capsys):
    notpdf = tmp_path / "notes.pdf"
    notpdf.write_text("just text")
    argv = [a.format(filing=filing, notpdf=notpdf) for a in args]
    assert main(["extract", *argv, "--engine", "local", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["-o", "{tmp}/out.docx"], "cannot tell the format from 'out.docx'", id="unknown suffix"),
        pytest.param(["-o", "{tmp}"], "is a directory", id="output is a folder"),
        pytest.param(["-o", "{tmp}/missing/out.xlsx"], "does not exist", id="output folder missing"),
        pytest.param(["--format", "pdf"], "invalid choice: 'pdf'", id="unknown format"),
        pytest.param(["--colour", "red"], "unrecognized arguments: --colour", id="unknown option"),
        pytest.param(["--pages", "²"], "Cannot read the page range", id="non-ASCII digit"),
        pytest.param(["--pages", "1-99999999999"], "too large", id="page number too large"),
        pytest.param(["--pages", "1-100000"], "At most 2000 pages", id="range too long"),
        pytest.param(
            ["--pages", "2-9"], "Pages 2-9 are outside the document, which has 1 page.", id="outside"
        ),
    ],
)
def test_bad_arguments_are_one_line_and_exit_1_before_any_work(args, message, filing, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path) for a in args]
    with_exit = _exit_code(["extract", str(filing), "--engine", "local", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert with_exit == 1, err
    assert len(err) == 1 and message in err[0], err  # one line: no usage block, no progress bar
    assert err[0].startswith("tieout extract: error: ")


def test_an_unwritable_output_is_one_line_not_a_traceback(filing, capsys):
    assert main(["extract", str(filing), "--engine", "local", "--quiet", "-o", "/proc/out.json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tieout extract: error: cannot write /proc/out.json")


def _exit_code(argv: list[str]) -> int:
    """`main`'s exit code, also when argparse exits for a usage error."""
    try:
        return main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)
