"""The README's tables match the code: every setting with its real default, every route, every list
filter and every command option a reader may need, so the first page a user reads is not stale."""

from __future__ import annotations

import argparse
import re
from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import build_parser
from app.core.config import Settings, env_name
from app.main import create_app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def table_after(heading: str) -> list[list[str]]:
    """The rows (cells, backticks kept) of the first table under `heading`, header and rule off."""
    lines = README.split(f"\n## {heading}\n", 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    block = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return block[2:]


def names(cell: str) -> list[str]:
    return re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)


CONFIG = table_after("Configuration")
DOCUMENTED = {name: row for row in CONFIG for name in names(row[0])}
SETTINGS = {env_name((field,)): field for field in Settings.model_fields}


class TestConfiguration:
    def test_every_setting_is_documented(self) -> None:
        assert set(SETTINGS) - set(DOCUMENTED) == set()

    def test_nothing_documented_is_not_a_setting(self) -> None:
        assert set(DOCUMENTED) - set(SETTINGS) == set()

    @pytest.mark.parametrize("row", CONFIG, ids=lambda row: row[0])
    def test_numeric_defaults_are_the_real_ones(self, row: list[str]) -> None:
        defaults = [d.strip(" `") for d in row[1].split(" / ")]
        variables = names(row[0])
        if len(defaults) != len(variables):
            defaults = defaults * len(variables) if len(defaults) == 1 else defaults
        for variable, text in zip(variables, defaults, strict=True):
            number = re.fullmatch(r"(\d+(?:\.\d+)?)( s| GiB)?", text)
            if number is None:
                continue
            documented = Decimal(number[1]) * (1024**3 if number[2] == " GiB" else 1)
            actual = Settings.model_fields[SETTINGS[variable]].default
            assert documented == Decimal(str(actual)), variable

    @pytest.mark.parametrize(
        ("variable", "default"),
        [
            ("TIEOUT_DATA_DIR", "./.tieout"),
            ("TEXT_ENGINE", "auto"),
            ("BLOB_STORE", "postgres"),
            ("LOG_LEVEL", "INFO"),
        ],
    )
    def test_word_defaults_are_the_real_ones(self, variable: str, default: str) -> None:
        assert f"`{default}`" in DOCUMENTED[variable][1]
        assert str(Settings.model_fields[SETTINGS[variable]].default).lstrip("./") in default


def api_row(path: str) -> str:
    rows = [row for row in table_after("Using the API") if f"`{path}`" in row[0] or f"`GET {path}`" in row[0]]
    assert rows, path
    return " ".join(rows[0])


class TestApiOverview:
    def test_every_route_is_in_the_overview(self) -> None:
        overview = " ".join(" ".join(row) for row in table_after("Using the API"))
        for route in create_app(Settings(_env_file=None)).routes:  # type: ignore[call-arg]
            path = getattr(route, "path", "")
            if path.startswith(("/api/", "/health")):
                last = re.sub(r"\{\w+_id\}", "{id}", path).rstrip("/").split("/")[-1]
                assert last in overview, path

    @pytest.mark.parametrize(
        ("path", "route"),
        [
            ("/api/v1/documents", "/api/v1/documents"),
            ("/api/v1/statements", "/api/v1/statements"),
            ("/api/v1/jobs", "/api/v1/jobs"),
        ],
    )
    def test_every_list_filter_is_named(self, path: str, route: str) -> None:
        spec = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
        params = {p["name"] for p in spec["paths"][route]["get"]["parameters"]} - {"limit", "cursor"}
        row = api_row(f"GET {path}")
        assert {p for p in params if f"`{p}`" not in row} == set()


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings if o.startswith("--")} - {"--help"}


class TestCommands:
    def test_every_option_of_every_command_is_in_the_table(self) -> None:
        table = {row[0].strip("`").split()[1]: row[0] for row in table_after("Commands")}
        commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        for name, parser in commands.items():
            if name == "cache":
                parser = parser._subparsers._group_actions[0].choices["clear"]  # type: ignore[union-attr]
            documented = table[name].replace("-o OUT", "--output")
            assert {option for option in long_options(parser) if option not in documented} == set(), name
