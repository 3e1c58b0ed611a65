"""PDF fixtures drawn on the fly: financial statements with a text layer or without one, and bad PDFs.

`statement_pdf(income_statement())` draws a statement the way filings print them: company, title, unit
line, multi-line period headers centred over their columns, an indented label column, `$` at the left
of the first and total rows, parentheses for negatives, dashes for zero, rules above totals. Each
`Statement` knows its own truth (`truth()`, shaped like ../shared/corpus/truth/*.json) so a test can
check what an extractor or parser read back. `scanned_pdf` rasterises any PDF into images only (no
text layer), so it must go through OCR. The bad inputs cover every `PdfError` code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
from fpdf import FPDF

PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LABEL_X = 54.0
FIRST_COLUMN_X = 318.0
COLUMN_WIDTH = 82.0
ROW_PITCH = 13.0


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[str | None, ...] = ()  # cells as printed: "$ 10,918", "(52)", "—"; None is a blank cell
    indent: int = 0
    total: bool = False


@dataclass(frozen=True)
class Statement:
    type: str
    title: str
    headers: tuple[tuple[str, ...], ...]  # header lines; a 1-tuple is centred over all the columns
    rows: tuple[Row, ...]
    company: str = "EXAMPLE CORPORATION AND SUBSIDIARIES"
    unit: str = "(In millions, except per share data)"

    @property
    def columns(self) -> int:
        return max(len(row.values) for row in self.rows)

    def truth(self) -> dict:
        """This statement as a truth file: values as exact decimal strings, dashes as "0"."""
        items = [
            {"label": row.label, "values": [None if v is None else str(printed_value(v)) for v in row.values]}
            for row in self.rows
        ]
        return {"document": "generated", "statements": [{"type": self.type, "pages": [1], "items": items}]}


def printed_value(cell: str) -> Decimal:
    text = cell.replace("$", "").replace(",", "").strip()
    if text in {"-", "—", "–"}:
        return Decimal(0)
    if text.startswith("("):
        return -Decimal(text.strip("()"))
    return Decimal(text)


def income_statement(dash: str = "—") -> Statement:
    """Three years, a multi-line period header, per-share rows, parentheses and a dash."""
    return Statement(
        type="income_statement",
        title="CONSOLIDATED STATEMENTS OF INCOME",
        headers=(("Year Ended",), ("January 26,", "January 27,", "January 28,"), ("2020", "2019", "2018")),
        rows=(
            Row("Revenue", ("$ 10,918", "$ 11,716", "$ 9,714")),
            Row("Cost of revenue", ("4,150", "4,545", "3,892"), indent=1),
            Row("Gross profit", ("6,768", "7,171", "5,822"), total=True),
            Row("Operating expenses"),
            Row("Research and development", ("2,829", "2,376", "1,797"), indent=1),
            Row("Sales, general and administrative", ("1,093", "991", "815"), indent=1),
            Row("Restructuring and other charges", (dash, "12", dash), indent=1),
            Row("Total operating expenses", ("3,922", "3,379", "2,612"), indent=2, total=True),
            Row("Income from operations", ("2,846", "3,792", "3,210")),
            Row("Interest expense", ("(52)", "(58)", "(61)"), indent=1),
            Row("Other, net", ("(2)", "26", "(22)"), indent=1),
            Row("Income before income tax", ("2,792", "3,760", "3,127"), total=True),
            Row("Income tax expense (benefit)", ("174", "(245)", "149"), indent=1),
            Row("Net income", ("$ 2,618", "$ 4,005", "$ 2,978"), total=True),
            Row("Net income per share:"),
            Row("Basic", ("$ 4.30", "$ 6.59", "$ 4.97"), indent=1),
            Row("Diluted", ("$ 4.24", "$ 6.41", "$ 4.71"), indent=1),
        ),
    )


def balance_sheet(dash: str = "—") -> Statement:
    """Two dates, section headers, long labels and totals."""
    return Statement(
        type="balance_sheet",
        title="CONSOLIDATED BALANCE SHEETS",
        unit="(In millions, except par value)",
        headers=(("January 26,", "January 27,"), ("2020", "2019")),
        rows=(
            Row("ASSETS"),
            Row("Cash and cash equivalents", ("$ 10,896", "$ 782"), indent=1),
            Row("Accounts receivable, net", ("1,657", "1,424"), indent=1),
            Row("Inventories", ("979", "1,575"), indent=1),
            Row("Total current assets", ("13,532", "3,781"), total=True),
            Row("Operating lease assets", ("618", dash)),
            Row("Total assets", ("$ 14,150", "$ 3,781"), total=True),
            Row("LIABILITIES AND SHAREHOLDERS' EQUITY"),
            Row("Accrued and other current liabilities", ("1,097", "818"), indent=1),
            Row("Long-term operating lease liabilities", ("561", dash), indent=1),
            Row("Total liabilities", ("1,658", "818"), total=True),
            Row(
                "Treasury stock, at cost (342 shares in 2020 and 339 shares in 2019)", ("(9,814)", "(9,263)")
            ),
            Row("Retained earnings", ("22,306", "12,226"), indent=1),
            Row("Total shareholders' equity", ("12,492", "2,963"), total=True),
            Row("Total liabilities and shareholders' equity", ("$ 14,150", "$ 3,781"), total=True),
        ),
    )


def _new_pdf(unicode_font: bool) -> tuple[FPDF, str]:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    if unicode_font and UNICODE_FONT.exists():
        pdf.add_font("dejavu", "", str(UNICODE_FONT))
        pdf.add_font("dejavu", "B", str(UNICODE_FONT))
        return pdf, "dejavu"
    return pdf, "helvetica"


def _centred(pdf: FPDF, text: str, centre: float, y: float) -> None:
    pdf.text(centre - pdf.get_string_width(text) / 2, y, text)


def _draw_cell(pdf: FPDF, cell: str, column: int, y: float) -> None:
    left = FIRST_COLUMN_X + column * COLUMN_WIDTH + 8
    right = FIRST_COLUMN_X + (column + 1) * COLUMN_WIDTH - 6
    figure = cell if pdf.font_family != "helvetica" else cell.replace("—", "-")
    if cell.startswith("$"):
        pdf.text(left, y, "$")
        figure = cell[1:].strip()
    # Parentheses hang to the right of the column, as in filings, so the digits stay aligned.
    hang = pdf.get_string_width(")") if figure.endswith(")") else 0
    pdf.text(right + hang - pdf.get_string_width(figure), y, figure)


def draw_statement(pdf: FPDF, font: str, statement: Statement) -> None:
    pdf.add_page()
    pdf.set_font(font, "B", 10)
    _centred(pdf, statement.company, PAGE_WIDTH / 2, 60)
    _centred(pdf, statement.title, PAGE_WIDTH / 2, 73)
    pdf.set_font(font, "", 9)
    _centred(pdf, statement.unit, PAGE_WIDTH / 2, 86)
    y = 112.0
    columns = statement.columns
    for header in statement.headers:
        if len(header) == 1:
            _centred(pdf, header[0], FIRST_COLUMN_X + columns * COLUMN_WIDTH / 2, y)
        else:
            for column, text in enumerate(header):
                _centred(pdf, text, FIRST_COLUMN_X + (column + 0.6) * COLUMN_WIDTH, y)
        y += 11
    y += 6
    for row in statement.rows:
        if row.total:
            pdf.line(FIRST_COLUMN_X + 8, y - 9, FIRST_COLUMN_X + columns * COLUMN_WIDTH - 4, y - 9)
        pdf.text(LABEL_X + 10 * row.indent, y, row.label)
        for column, cell in enumerate(row.values):
            if cell is not None:
                _draw_cell(pdf, cell, column, y)
        y += ROW_PITCH


def statement_pdf(*statements: Statement, unicode_font: bool = True) -> bytes:
    """One page per statement, with a text layer (DejaVu Sans when installed, else Helvetica)."""
    pdf, font = _new_pdf(unicode_font)
    for statement in statements or (income_statement(),):
        draw_statement(pdf, font, statement)
    return bytes(pdf.output())


def scanned_pdf(source: bytes, dpi: int = 200) -> bytes:
    """The same pages as images only: rasterised with PDFium, no text layer left."""
    out = FPDF(unit="pt", format="letter")
    doc = pdfium.PdfDocument(source)
    try:
        for index in range(len(doc)):
            page = doc[index]
            width, height = page.get_size()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            page.close()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            out.add_page(format=(width, height))
            out.image(buffer, x=0, y=0, w=width, h=height)
    finally:
        doc.close()
    return bytes(out.output())


def rotated_pdf(source: bytes) -> bytes:
    """The same pages as landscape scans store them: content turned a quarter left, /Rotate 90 to show it."""
    src = pdfium.PdfDocument(source)
    out = pdfium.PdfDocument.new()
    try:
        for index in range(len(src)):
            width, height = src[index].get_size()
            page = out.new_page(height, width)
            content = src.page_as_xobject(index, out).as_pageobject()
            content.transform(pdfium.PdfMatrix().rotate(90, ccw=True).translate(height, 0))
            page.insert_obj(content)
            page.gen_content()
            page.set_rotation(90)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()
    finally:
        out.close()
        src.close()


def text_pdf(pages: int = 1, text: str = "Page {n}") -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("helvetica", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.text(72, 72, text.format(n=number))
    return bytes(pdf.output())


def encrypted_pdf(user_password: str = "secret") -> bytes:
    """Opens only with `user_password`."""
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.text(72, 72, "Confidential")
    return bytes(pdf.output())


def truncated_pdf() -> bytes:
    """A real PDF cut off two thirds of the way through, as an interrupted upload leaves it."""
    data = statement_pdf(unicode_font=False)
    return data[: len(data) * 2 // 3]


def corrupt_pdf() -> bytes:
    """Header and %%EOF are there, but nothing a reader can parse lies between them."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def not_a_pdf() -> bytes:
    return b"Revenue,10918\nCost of revenue,4150\n"
