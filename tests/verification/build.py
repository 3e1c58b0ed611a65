"""Write statements for tests as text: one row per line, `CODE label | value | value ...`.

CODE is the kind and level (`H0` header, `L1` line, `T0` total) with an optional value kind suffix
(`p` per share, `s` shares). Values: "(1,234)" is negative, "—" or "-" is zero, an empty cell is blank.
"""

from __future__ import annotations

from decimal import Decimal

from app.statements.format import Column, Item, Statement, TextSourceInfo

_KINDS = {"H": "header", "L": "line", "T": "total"}
_VALUE_KINDS = {"": "monetary", "p": "per_share", "s": "shares"}


def number(cell: str) -> Decimal | None:
    text = cell.strip().replace("$", "").replace(",", "").replace(" ", "")
    if not text:
        return None
    if text in {"—", "-", "–"}:
        return Decimal(0)
    if text.startswith("(") and text.endswith(")"):
        return -Decimal(text[1:-1])
    return Decimal(text)


def rows(text: str, width: int) -> list[Item]:
    items = []
    section = None
    for line in text.strip().splitlines():
        code, _, rest = line.strip().partition(" ")
        label, *cells = rest.split("|")
        kind = _KINDS[code[0]]
        values = [number(c) for c in cells] + [None] * (width - len(cells))
        if kind == "header":
            section = label.strip().rstrip(":")
        items.append(
            Item(
                label=label.strip(),
                level=int(code[1]),
                kind=kind,
                value_kind=_VALUE_KINDS[code[2:]],
                section=section if code[2:] else None,
                values=values[:width],
            )
        )
    return items


def statement(
    type_: str,
    text: str,
    *,
    periods: list[tuple[str, int | None]] | None = None,
    headers: list[str] | None = None,
    unit: str = "millions",
    entity: str | None = None,
) -> Statement:
    """A statement with period columns (`periods`: (period_end, months)) or component columns (`headers`)."""
    if periods is not None:
        columns = [
            Column(key=f"{end}/{m}m" if m else end, header=end, period_end=end, period_months=m)
            for end, m in periods
        ]
    else:
        assert headers is not None
        columns = [Column(key=f"c{i}", header=h) for i, h in enumerate(headers)]
    return Statement(
        type=type_,
        title=type_.replace("_", " ").upper(),
        pages=[1],
        unit=unit,
        entity=entity,
        columns=columns,
        items=rows(text, len(columns)),
        text_source=TextSourceInfo(engine="local"),
    )


def years(*ends: str, months: int | None = 12) -> list[tuple[str, int | None]]:
    return [(end, months) for end in ends]


def failed(statement: Statement) -> list[str]:
    """Failed checks, readable in an assertion message."""
    checks = statement.checks
    return [f"{c.rule} {c.row!r} {c.column}: {c.printed} vs {c.computed}" for c in checks if not c.ok]


def footed_rows(statement: Statement) -> set[int]:
    return {c.row_index for c in statement.checks if c.row_index is not None and c.rule != "unfooted"}


def components(statement: Statement, label: str) -> list[str]:
    """Signed components of the first check on the row with this label ("+Revenue", "-Cost of revenue")."""
    check = next(c for c in statement.checks if c.row == label and c.rule not in ("eps",))
    signs = check.signs or []
    return [("-" if s < 0 else "+") + name for name, s in zip(check.components, signs, strict=True)]
