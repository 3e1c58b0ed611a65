"""`tieout usage` and `tieout cache clear`: what LLMWhisperer cost, and emptying the shared text cache.

Both open the same database as the service (DATABASE_URL, else the embedded one in TIEOUT_DATA_DIR)
and print a short table; thin over `app.extraction.cache`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import datetime
from typing import Any

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def add_commands(commands: Any) -> None:
    text = "show the LLMWhisperer pages billed and the pages the shared cache saved"
    usage = commands.add_parser(
        "usage", help=text, description=text + ", in total, per mode and per document."
    )
    usage.add_argument("--since", type=_timestamp, help="only usage from this ISO time on (e.g. 2026-11-01)")
    usage.set_defaults(handler=run_usage)

    text = "manage the shared page-text cache"
    cache = commands.add_parser("cache", help=text, description=text + ".")
    actions = cache.add_subparsers(dest="action", required=True, metavar="ACTION")
    text = "remove cached page text (all of it unless narrowed); runs still in flight are kept"
    clear = actions.add_parser("clear", help=text, description=text + ".")
    clear.add_argument("--sha256", type=_sha256, help="only the pages of the file with this SHA-256")
    clear.add_argument("--engine", choices=("llmwhisperer", "local"), help="only this engine's pages")
    clear.add_argument("--older-than", type=_timestamp, help="only entries made before this ISO time")
    clear.set_defaults(handler=run_cache_clear)


def run_usage(args: argparse.Namespace) -> int:
    from app.extraction.cache import usage_summary

    async def read(session):
        return await usage_summary(session, since=args.since)

    summary = asyncio.run(_with_session(read, commit=False))
    print(f"pages billed: {summary.pages_billed}\npages saved by the cache: {summary.pages_saved}")
    if summary.by_mode:
        print("\n| mode | billed | saved |\n|---|---|---|")
        for mode, counts in summary.by_mode.items():
            print(f"| {mode} | {counts['pages_billed']} | {counts['pages_saved']} |")
    if summary.by_document:
        print("\n| document | sha256 | billed | saved |\n|---|---|---|---|")
        for doc in summary.by_document:
            print(
                f"| {doc.document_id or '-'} | {doc.sha256[:12]} | {doc.pages_billed} | {doc.pages_saved} |"
            )
    return 0


def run_cache_clear(args: argparse.Namespace) -> int:
    from app.extraction.cache import clear_cache

    async def clear(session):
        return await clear_cache(session, sha256=args.sha256, engine=args.engine, older_than=args.older_than)

    cleared = asyncio.run(_with_session(clear, commit=True))
    print(f"removed {cleared.pages} cached pages and {cleared.runs} finished LLMWhisperer runs")
    return 0


async def _with_session(work, *, commit: bool):
    from app.cli import load_settings, prestart_embedded
    from app.core.logging import configure_logging
    from app.main import open_runtime

    settings = load_settings()
    configure_logging(settings)
    prestart_embedded(settings)
    async with open_runtime(settings, role="cli") as runtime, runtime.sessionmaker() as session:
        result = await work(session)
        if commit:
            await session.commit()
        return result


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time (e.g. 2026-11-01)") from None


def _sha256(text: str) -> str:
    if not SHA256.match(text):
        raise argparse.ArgumentTypeError("expected 64 lowercase hex characters")
    return text
