"""Benchmark the local text extractor: cheap scan, layout text and OCR, in ms per page.

usage: uv run python scripts/bench_text.py [--pdf PATH] [--scanned GLOB] [--scan-doc PATH] [--runs N]

Prints one table: the whole-document scan (plain text of every page plus the candidate test, document
open included), layout text of the statement pages, render + OCR per scanned page, and the cheap pass
over an image-only document (OCR of each page's title band), each against its target. Figures are
medians of --runs runs; the load average is printed because the machines are shared.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.extraction.local import layout_page
from app.extraction.local_source import DEFAULT_OCR_WORKERS, extract_pages, find_candidate_pages
from app.extraction.ocr import ocr_engine, ocr_page, render_page
from app.extraction.pdf import open_pdf

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdf"
SCAN_DOC = CORPUS.parent / "wild" / "fanmilk-annual-2024.pdf"  # 53 pages, every one an image
STATEMENT_PAGES = [39, 40, 41, 42, 43, 44]  # NVIDIA 10-K FY2020


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def load_engine() -> None:
    with ocr_engine():
        pass


def bench_scan(data: bytes, runs: int) -> tuple[int, float]:
    with open_pdf(data) as doc:
        pages = len(doc)
    return pages, statistics.median(timed(find_candidate_pages, data)[0] for _ in range(runs))


def bench_layout(data: bytes, page_numbers: list[int], runs: int) -> list[float]:
    per_page = []
    with open_pdf(data) as doc:
        for number in page_numbers:
            per_page.append(statistics.median(timed(layout_page, doc, number)[0] for _ in range(runs)))
    return per_page


def bench_ocr(paths: list[str]) -> list[tuple[str, float, float, float]]:
    """(name, render s, OCR wall s, OCR CPU s): CPU time over all threads, which load does not inflate."""
    rows = []
    for path in paths:
        with open_pdf(Path(path).read_bytes()) as doc:
            render_seconds, image = timed(render_page, doc, 1)
            page = doc[0]
            width, height = page.get_size()
            page.close()
        cpu = time.process_time()
        ocr_seconds, _ = timed(ocr_page, image, 1, width, height)
        rows.append((Path(path).stem, render_seconds, ocr_seconds, time.process_time() - cpu))
    return rows


def bench_ocr_parallel(paths: list[str], workers: int) -> float:
    """Wall seconds per page when the pages are OCR'd `workers` at a time, as `LocalTextSource` does."""
    documents = [Path(path).read_bytes() for path in paths]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda data: extract_pages(data, [1]), documents))
    return (time.perf_counter() - start) / len(paths)


def bench_scan_doc(path: str) -> tuple[int, int, float, float]:
    """(pages, candidates, wall s, CPU s) of the cheap pass over an image-only document (engines warm)."""
    data = Path(path).read_bytes()
    with open_pdf(data) as doc:
        pages = len(doc)
    cpu = time.process_time()
    seconds, chosen = timed(find_candidate_pages, data)
    return pages, len(chosen), seconds, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", default=str(CORPUS / "nvidia-10k-fy2020.pdf"))
    parser.add_argument(
        "--pages", default=",".join(map(str, STATEMENT_PAGES)), help="statement pages for layout"
    )
    parser.add_argument("--scanned", default=str(CORPUS / "*-scanned.pdf"))
    parser.add_argument("--scan-doc", default=str(SCAN_DOC), help="image-only document for the cheap pass")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not Path(args.pdf).exists():
        sys.exit(f"{args.pdf} is absent: pass --pdf (the shared corpus is not beside this clone)")
    data = Path(args.pdf).read_bytes()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{Path(args.pdf).name}; {os.cpu_count()} CPUs, load average {load}; medians of {args.runs} runs\n")

    pages, scan = bench_scan(data, args.runs)
    layout = bench_layout(data, [int(p) for p in args.pages.split(",")], args.runs)
    engine_seconds, _ = timed(load_engine)
    scanned = sorted(glob.glob(args.scanned))
    ocr = bench_ocr(scanned)
    with ThreadPoolExecutor(DEFAULT_OCR_WORKERS) as pool:  # warm one engine per worker
        list(pool.map(lambda _: load_engine(), range(DEFAULT_OCR_WORKERS)))
    parallel = bench_ocr_parallel(scanned, DEFAULT_OCR_WORKERS) if scanned else 0.0
    scan_doc = bench_scan_doc(args.scan_doc) if Path(args.scan_doc).exists() else None

    rows = [
        (
            "plain text, every page (whole-document scan)",
            pages,
            1000 * scan / pages,
            f"{scan:.2f} s",
            "< 1.5 s",
            scan < 1.5,
        ),
        (
            "layout text, statement pages",
            len(layout),
            1000 * statistics.median(layout),
            f"max {1000 * max(layout):.1f} ms",
            "< 50 ms/page",
            max(layout) < 0.05,
        ),
    ]
    for name, render_seconds, ocr_seconds, cpu_seconds in ocr:
        total = render_seconds + ocr_seconds
        detail = f"CPU {cpu_seconds:.1f} s"
        rows.append((f"render + OCR, {name}", 1, 1000 * total, detail, "< 5 s/page", total < 5))
    if scanned:
        label = f"render + OCR, {len(scanned)} pages, {DEFAULT_OCR_WORKERS} at a time (wall / page)"
        rows.append((label, len(scanned), 1000 * parallel, "LocalTextSource", "< 5 s/page", parallel < 5))
    if scan_doc:
        count, chosen, wall, cpu_seconds = scan_doc
        label = f"cheap pass, scanned doc: title bands, {DEFAULT_OCR_WORKERS} at a time (wall/page)"
        detail = f"{chosen}/{count} chosen"
        rows.append((label, count, 1000 * wall / count, detail, "< 0.5 s/page", wall / count < 0.5))
    print(f"| {'measure':<62} | pages | ms/page | {'detail':<16} | target       | met |")
    print(f"|{'-' * 64}|-------|---------|{'-' * 18}|--------------|-----|")
    for label, count, ms, detail, target, met in rows:
        verdict = "yes" if met else "NO"
        print(f"| {label:<62} | {count:>5} | {ms:>7.1f} | {detail:<16} | {target:<12} | {verdict:<3} |")
    cpus = os.cpu_count()
    if scan_doc:
        count, chosen, wall, cpu_seconds = scan_doc
        name = Path(args.scan_doc).name
        print(f"Cheap pass over {name}: {wall:.1f} s for {count} pages, CPU {cpu_seconds:.1f} s")
        print(f"({1000 * cpu_seconds / count:.0f} ms/page); then only its {chosen} candidates get full OCR.")
    print(f"\nOCR engine load (once per engine): {engine_seconds:.2f} s.")
    print("Each OCR engine runs one ONNX thread; CPU s is the process's CPU time for the page, so on an")
    print(f"idle machine a page takes about its CPU s, and {cpus} pages at a time about CPU s / {cpus} each.")


if __name__ == "__main__":
    main()
