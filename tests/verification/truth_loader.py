"""Load ../shared/corpus/truth/*.json into `Statement`s, skipping with the reason when it is absent."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.statements.format import Column, Item, Statement, TextSourceInfo


def truth_dir() -> Path:
    configured = os.environ.get("TIEOUT_SHARED")
    shared = Path(configured) if configured else Path(__file__).resolve().parents[3] / "shared"
    return shared / "corpus" / "truth"


def truth_files() -> list[Path]:
    directory = truth_dir()
    if not directory.is_dir():
        pytest.skip(f"{directory} is absent: the shared corpus is not beside this clone")
    return sorted(directory.glob("*.json"))


def _column_key(column: dict, index: int) -> str:
    if column.get("period_end"):
        months = column.get("period_months")
        return f"{column['period_end']}/{months}m" if months else column["period_end"]
    return f"c{index}:{column['header']}"


def load_statements(path: Path) -> list[Statement]:
    """Every statement of one truth file, as the parse stage would hand it over (no checks yet)."""
    document = json.loads(path.read_text())
    statements = []
    for raw in document["statements"]:
        columns = [
            Column(
                key=_column_key(c, i),
                header=c["header"],
                period_end=c.get("period_end"),
                period_months=c.get("period_months"),
            )
            for i, c in enumerate(raw["columns"])
        ]
        items = [
            Item(
                label=it["label"],
                level=it.get("level", 0),
                kind=it.get("kind", "line"),
                value_kind=it.get("value_kind", "monetary"),
                section=it.get("section"),
                values=it["values"],
            )
            for it in raw["items"]
        ]
        statements.append(
            Statement(
                type=raw["type"],
                title=raw["title"],
                company=document.get("company"),
                entity=raw.get("entity"),
                pages=raw["pages"],
                currency=raw.get("currency"),
                unit=raw.get("unit", "units"),
                columns=columns,
                items=items,
                text_source=TextSourceInfo(engine="local", ocr="scanned" in path.stem),
            )
        )
    return statements
