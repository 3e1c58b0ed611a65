"""Parse time per statement for the recorded corpus texts (target: under 5 ms per statement).

usage: uv run python scripts/bench_parse.py [--repeat N]
Reads ../shared/corpus/whisper (or $TIEOUT_SHARED/corpus/whisper) and prints one row per statement:
the median and best wall time and the median CPU time of `parse_statement` over N runs (the machine
is shared, so wall medians swing with load; CPU time does not), the format and the value count.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.detection.detect import Detection
from app.extraction.source import PageText
from app.parsing.parse import parse_statement

SCANNED = [
    "income-statement",
    "comprehensive-income",
    "balance-sheet",
    "cashflow-statement",
    "shareholder-equity",
]
RECORDINGS = {
    "nvidia-10k-fy2020-statements-table.txt": "nvidia-10k-fy2020.json",
    **{f"nvidia-fy2020-{name}-scanned-layout.txt": f"nvidia-fy2020-{name}-scanned.json" for name in SCANNED},
}


def shared() -> Path:
    configured = os.environ.get("TIEOUT_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared"


def pages_of(path: Path) -> list[PageText]:
    raw = path.read_text()
    header, _, body = raw.partition("=" * 80)
    if not body:
        header, body = "", raw
    chunks = body.split("<<<")
    if chunks and not chunks[-1].strip():
        chunks.pop()
    listed = re.search(r"# Pages Extracted: \[([\d, ]+)\]", header)
    numbers = (
        sorted(int(n) for n in listed.group(1).split(",")) if listed and "scanned" not in path.name else None
    )
    mode = "grid" if path.name.endswith("-table.txt") else "layout"
    return [
        PageText(page=numbers[k] if numbers else k + 1, text=c, engine="llmwhisperer", mode=mode)
        for k, c in enumerate(chunks)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    corpus = shared() / "corpus"
    if not corpus.exists():
        sys.exit(f"{corpus} is absent")
    print(
        f"{'recording':55s} {'statement':22s} {'mode':6s} {'values':>6s} {'median ms':>10s} {'best ms':>8s}"
    )
    medians = []
    for name, truth_name in RECORDINGS.items():
        pages = pages_of(corpus / "whisper" / name)
        truth = json.loads((corpus / "truth" / truth_name).read_text())
        for expected in truth["statements"]:
            detection = Detection(
                type=expected["type"], pages=tuple(expected["pages"]), confidence=1.0, title=expected["title"]
            )
            times, cpu = [], []
            for _ in range(args.repeat):
                start, start_cpu = time.perf_counter(), time.process_time()
                statement = parse_statement(pages, detection)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            values = sum(v is not None for item in statement.items for v in item.values)
            median = statistics.median(times)
            medians.append(median)
            print(
                f"{name[:55]:55s} {expected['type']:22s} {pages[0].mode:6s} {values:6d} "
                f"{median:10.2f} {min(times):8.2f} {statistics.median(cpu):7.2f}"
            )
    print(
        f"{'all statements':55s} {'':22s} {'':6s} {'':6s} {statistics.median(medians):10.2f} "
        f"{max(medians):8.2f} (median of medians, worst median)"
    )


if __name__ == "__main__":
    main()
