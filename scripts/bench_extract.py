"""`tieout extract` of a text-layer 10-K against merely reading every page's text with PDFium.

usage: uv run python scripts/bench_extract.py [--pdf PATH] [--runs N]

Both run as fresh Python processes, alternated A B A B in one run so machine drift hits both alike;
the table shows the median wall time of each and the median of the per-pair ratios. Target: the
whole pipeline (text, detection, parsing, verification, JSON) costs at most 4x the bare text read.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PDF = ROOT.parent / "shared" / "corpus" / "pdf" / "nvidia-10k-fy2020.pdf"
TARGET_RATIO = 4.0
READ_ALL_TEXT = """
import sys, pypdfium2
pdf = pypdfium2.PdfDocument(sys.argv[1])
chars = 0
for page in pdf:
    chars += len(page.get_textpage().get_text_bounded())
print(chars)
"""


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.pdf.exists():
        print(f"{args.pdf} not found: pass --pdf with a text-layer 10-K", file=sys.stderr)
        return 1
    out = Path(tempfile.mkdtemp()) / "out.json"
    extract = [
        sys.executable,
        "-m",
        "app",
        "extract",
        str(args.pdf),
        "--engine",
        "local",
        "-o",
        str(out),
        "--quiet",
    ]
    read = [sys.executable, "-c", READ_ALL_TEXT, str(args.pdf)]
    wall(extract), wall(read)  # warm the page cache and bytecode
    pairs = [(wall(extract), wall(read)) for _ in range(args.runs)]
    a = statistics.median(p[0] for p in pairs)
    b = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"{args.pdf.name}, {args.runs} runs each, fresh processes, median wall seconds\n")
    print("| command | median s | ratio to text read | target |")
    print("|---|---|---|---|")
    print(f"| tieout extract --engine local | {a:.2f} | {ratio:.2f}x | <= {TARGET_RATIO:.0f}x |")
    print(f"| PDFium text of every page | {b:.2f} | 1.00x | |")
    return 0 if ratio <= TARGET_RATIO else 2


if __name__ == "__main__":
    sys.exit(main())
