"""`tieout usage` and `tieout cache clear` against a real, migrated database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.cli import main


@pytest.fixture
def database_env(monkeypatch: pytest.MonkeyPatch, fresh_database_url: str) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("RUN_MIGRATIONS", "false")
    return fresh_database_url


async def seed_usage(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        columns = {
            row[0]
            for row in await connection.execute(
                text("select column_name from information_schema.columns where table_name = 'text_usage'")
            )
        }
        assert {"sha256", "mode", "pages_billed", "pages_saved"} <= columns
        await connection.execute(
            text(
                "insert into text_usage (sha256, engine, mode, pages_billed, pages_saved) "
                "values (:sha, 'llmwhisperer', 'layout_preserving', 6, 0),"
                " (:sha, 'llmwhisperer', 'layout_preserving', 0, 6)"
            ),
            {"sha": "a" * 64},
        )
    await engine.dispose()


def test_usage_prints_billed_and_saved_pages(database_env: str, capsys: pytest.CaptureFixture[str]):
    import asyncio

    asyncio.run(seed_usage(database_env))
    assert main(["usage"]) == 0
    out = capsys.readouterr().out
    assert "pages billed: 6" in out
    assert "pages saved by the cache: 6" in out
    assert "| layout_preserving | 6 | 6 |" in out


def test_cache_clear_reports_what_it_removed(database_env: str, capsys: pytest.CaptureFixture[str]):
    assert main(["cache", "clear", "--engine", "llmwhisperer"]) == 0
    assert "removed 0 cached pages and 0 finished LLMWhisperer runs" in capsys.readouterr().out


def test_cache_clear_rejects_a_bad_hash_with_one_line(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main(["cache", "clear", "--sha256", "nothex"])
    assert exit_info.value.code == 2
    assert "expected 64 lowercase hex characters" in capsys.readouterr().err
