"""`tieout extract FILE.pdf`: the whole pipeline offline, in one command, without a server.

Exit codes: 0 when every statement found is verified, 2 when some are not (or none was found),
1 on errors (unreadable file, bad PDF, text engine failure), with one clear line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_UNVERIFIED = 0, 1, 2
FORMATS = ("json", "csv", "xlsx")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the PDF to read (10-K, 10-Q, annual report, scan)")
    parser.add_argument(
        "--engine",
        choices=("auto", "local", "llmwhisperer"),
        default=None,
        help="page-text engine: local (PDFium + OCR, no network), llmwhisperer (needs "
        "LLMWHISPERER_API_KEY), auto (LLMWhisperer when a key is set); default: TEXT_ENGINE",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: json, or from the -o file's suffix)",
    )
    parser.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")
    parser.add_argument("--pages", default=None, help="only these 1-based pages, e.g. 39-44,50")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    # Usage errors exit 1 like every other error: 2 already means "some statement not verified".
    parser.usage_exit_code = EXIT_ERROR
    parser.set_defaults(command_parser=parser)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from app.extraction.choose import EngineConfigError
    from app.extraction.errors import PdfError
    from app.extraction.pages import PageSpecError, parse_page_spec
    from app.extraction.whisper.errors import WhisperError

    fmt = args.format or _format_from_suffix(args.output)
    if fmt is None:
        name = args.output.name
        return _fail(f"cannot tell the format from {name!r}; name it .json, .csv or .xlsx, or use --format")
    if fmt == "xlsx" and args.output is None:
        return _fail("xlsx output needs -o FILE.xlsx")
    if args.output is not None and (problem := _output_problem(args.output)):
        return _fail(problem)
    try:
        pages = (parse_page_spec(args.pages) or None) if args.pages else None
        pdf = args.file.read_bytes()
    except PageSpecError as exc:
        return _fail(f"--pages: {exc}")
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror or exc}")
    try:
        document = asyncio.run(_extract(pdf, args.file.name, args.engine, pages, _progress(args.quiet)))
    except PdfError as exc:
        return _fail(f"{args.file}: {exc}")
    except EngineConfigError as exc:
        return _fail(str(exc))
    except WhisperError as exc:
        return _fail(f"LLMWhisperer: {exc}")
    except Exception as exc:  # engine or internal failure: one line, never a traceback
        return _fail(f"{type(exc).__name__}: {exc}")
    payload = _render(document, fmt)
    if args.output:
        try:
            args.output.write_bytes(payload)
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    found = document.statements
    _summary(found, quiet=args.quiet)
    return EXIT_OK if found and all(s.verified for s in found) else EXIT_UNVERIFIED


async def _extract(pdf: bytes, filename: str, engine: str | None, pages, progress):
    from app.core.config import get_settings
    from app.core.logging import configure_logging
    from app.extraction.choose import open_source
    from app.extraction.pdf import check_page_numbers, page_count
    from app.pipeline import run_extraction
    from app.statements.format import DocumentInfo, StatementSet

    settings = get_settings()
    configure_logging(settings)  # log lines go to stderr, never into the output on stdout
    count = page_count(pdf, max_pages=settings.max_pdf_pages)
    if pages:
        check_page_numbers(pages, count)  # before any engine starts: a typo answers at once
    async with open_source(engine, settings) as source:
        result = await run_extraction(pdf, source=source, progress=progress, pages=pages)
    info = DocumentInfo(filename=filename, sha256=hashlib.sha256(pdf).hexdigest(), page_count=count)
    return StatementSet(document=info, statements=result.statements)


def _render(document, fmt: str) -> bytes:
    if fmt == "csv":
        from app.export.csv import statements_to_csv

        return statements_to_csv(document)
    if fmt == "xlsx":
        from app.export.xlsx import statements_to_xlsx

        return statements_to_xlsx(document)
    # Every field, nulls included: the same document the API returns (docs/statement-format.md).
    return (document.model_dump_json(indent=2) + "\n").encode("utf-8")


def _format_from_suffix(output: Path | None) -> str | None:
    """The format an -o name asks for: json without a suffix, None for a suffix we do not write."""
    suffix = output.suffix.lower().lstrip(".") if output else ""
    if not suffix:
        return "json"
    return suffix if suffix in FORMATS else None


def _output_problem(output: Path) -> str | None:
    """Why -o cannot be written, found before minutes of OCR rather than after."""
    if output.is_dir():
        return f"-o {output}: is a directory; give a file name"
    folder = output.parent
    if not folder.is_dir():
        return f"-o {output}: the folder {folder} does not exist"
    return None


def _progress(quiet: bool):
    tty = sys.stderr.isatty()

    def show(stage: str, percent: int) -> None:
        if quiet:
            return
        bar = "#" * (percent // 5) + "." * (20 - percent // 5)
        end = "\n" if percent >= 100 or not tty else ""
        sys.stderr.write(f"\r[{bar}] {percent:3d}% {stage:<8}{end}")
        sys.stderr.flush()

    return show


def _summary(statements, *, quiet: bool) -> None:
    if quiet:
        return
    if not statements:
        sys.stderr.write("no financial statements found\n")
    for s in statements:
        failed = sum(not c.ok for c in s.checks)
        state = "verified" if s.verified else f"NOT verified ({failed} of {len(s.checks)} checks failed)"
        pages = ",".join(map(str, s.pages))
        sys.stderr.write(f"{s.type:<22} pages {pages:<8} {len(s.items):>3} rows  {state}\n")


def _fail(message: str) -> int:
    sys.stderr.write(f"tieout extract: error: {message}\n")
    return EXIT_ERROR
