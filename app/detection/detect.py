"""Detect the primary statements in page text.

Input: `PageText` pages (any engine, any order; page numbers 1-based). Output: one `Detection` per
statement found, in page order, with its pages, a confidence (0-1) and the evidence: the title and anchor
row labels matched, the signals that lowered the score, continuation pages and rejected alternatives.
`evidence["spans"]` gives, per page, the 1-based lines of `PageText.text.splitlines()` that belong to the
statement, so two statements printed on one page can be told apart.
Invariants: pure (no I/O); a statement starts at a printed title and continues onto following pages only
while they carry its rows or repeat its title; one detection per type, except in a document holding
several complete sets of statements, where each set gives its own (`set_index`, `entity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.detection import vocabulary as v
from app.detection.lines import Line, PageLines, Title, read_page
from app.detection.lookalikes import PENALTIES, heading_lines, page_signals
from app.extraction.source import PageText

THRESHOLD = 0.6
_MAX_CONTINUATION = 5
_SET_GAP = 3
_FULL_SET = 3
_MAIN_SET_BONUS = 0.1
_STRONG = 0.8  # a statement counts towards a complete set only when it is this sure
_STOPS = frozenset(PENALTIES) - {"prose", "supplemental_schedule"}
_ANCHORS = {kind: [re.compile(p) for p in patterns] for kind, patterns in v.ANCHORS.items()}
_LOOSE_ANCHORS = {kind: [re.compile(v.loosen(p)) for p in patterns] for kind, patterns in v.ANCHORS.items()}
_PNL_ROWS = 7  # the first anchors of the income statement: revenue down to profit before tax


@dataclass(frozen=True)
class Detection:
    """One statement: its type (statement-format.md names), pages, confidence and why.

    `entity` and `set_index` are set only in documents holding several complete sets of statements:
    the heading's registrant (when printed) and the set's 1-based position in the document.
    """

    type: str
    pages: tuple[int, ...]
    confidence: float
    title: str
    evidence: dict = field(default_factory=dict, compare=False)
    entity: str | None = None
    set_index: int | None = None


@dataclass(eq=False)
class _Candidate:
    type: str
    page: int
    line: int
    title: str
    phrase: str
    entity: str | None
    score: float
    evidence: dict
    pages: list[int] = field(default_factory=list)


def detect_statements(pages: list[PageText]) -> list[Detection]:
    """Find each primary statement and its pages; see the module docstring."""
    ordered = sorted(pages, key=lambda p: p.page)
    views = {page.page: read_page(page.page, page.text, page.ocr) for page in ordered}
    signals = {number: page_signals(view) for number, view in views.items()}
    candidates = [c for view in views.values() for c in _score_titles(view, signals[view.page])]
    statements = _extend([c for c in candidates if c.score >= THRESHOLD], views, signals)
    statements.sort(key=lambda c: (c.page, c.line))
    sets = _group_sets(statements)
    full = [group for group in sets if len({c.type for c in group if c.score >= _STRONG}) >= _FULL_SET]
    if len(full) >= 2:
        chosen = _choose_per_set(full, statements)
    else:
        chosen = _choose_best(statements, max(sets, key=len) if sets else [])
    taken = {(c.type, page) for c, _ in chosen for page in c.pages}
    return [
        _to_detection(c, index, [o for o in candidates if (o.type, o.page) not in taken])
        for c, index in chosen
    ]


def _score_titles(view: PageLines, signals: dict[str, float]) -> list[_Candidate]:
    """A candidate per title with at least two rows of values under it.

    Score: the title (0.5 at the top of the page, 0.45 mid-page after another statement's rows), up to
    0.3 for anchor rows of its type, up to 0.15 for rows of values, 0.05 for a unit line, minus the
    page's look-alike penalties.
    """
    candidates = []
    for n, title in enumerate(view.titles):
        end = view.titles[n + 1].index if n + 1 < len(view.titles) else len(view.lines)
        segment = view.lines[title.index : end]
        first = 1 if title.top else segment[0].number
        rows = sum(line.is_row for line in segment)
        if rows < 2:
            continue
        kind, anchors = title.type, _anchors(segment)
        evidence: dict = {
            "title_line": segment[0].number,
            "numeric_rows": rows,
            "spans": [{"page": view.page, "first_line": first, "last_line": segment[-1].number}],
            "continuation": [],
        }
        if kind == v.COMPREHENSIVE and len([a for a in anchors[v.INCOME] if a[1] < _PNL_ROWS]) >= 3:
            kind, evidence["reclassified"] = v.INCOME, "comprehensive income title over profit or loss rows"
        penalties = dict(signals)
        if _supplemental(segment):
            penalties["supplemental_schedule"] = PENALTIES["supplemental_schedule"]
        unit = _unit(segment[:12])
        matched = [label for label, _ in anchors[kind]]
        score = (0.5 if title.top else 0.45) + 0.075 * min(len(matched), 4) + 0.015 * min(rows, 10)
        score += 0.05 * (unit is not None) - sum(penalties.values())
        raw = re.sub(r"\s*\([^)]*$", "", view.lines[title.index].raw)
        evidence |= {"title": raw, "anchors": matched, "unit": unit, "lowered_by": penalties}
        entity = _entity(view, title)
        phrase = f"{title.text}|{title.prefix}"
        candidates.append(
            _Candidate(kind, view.page, title.index, raw, phrase, entity, round(score, 3), evidence)
        )
    return candidates


def _anchors(segment: list[Line]) -> dict[str, list[tuple[str, int]]]:
    """Per type, the anchor row labels found in the segment, with the anchor's rank in the vocabulary."""
    found: dict[str, list[tuple[str, int]]] = {kind: [] for kind in v.TYPES}
    for line in segment:
        if not line.label or len(line.label) > 140:
            continue
        for kind, patterns in _ANCHORS.items():
            for rank, pattern in enumerate(patterns):
                hit = pattern.match(line.label) or (
                    line.squeezed is not None and _LOOSE_ANCHORS[kind][rank].match(line.squeezed)
                )
                if hit and rank not in {r for _, r in found[kind]}:
                    found[kind].append((line.raw[:80], rank))
                    break
    return found


def _unit(heading: list[Line]) -> str | None:
    """The heading line that states the unit ("(In millions, except per share data)"), if any."""
    for line in heading:
        if v.UNIT.search(line.text):
            return line.raw
    joined = v.UNIT.search(" ".join(line.text for line in heading))  # "(In" / "thousands)" split
    return joined[0] if joined else None


def _supplemental(segment: list[Line]) -> bool:
    """A schedule printed under the statement's title: "Supplemental ...", "(Parenthetical)"."""
    return any(v.SUPPLEMENTAL.search(line.text) for line in [segment[0], *heading_lines(segment[1:], 4)])


def _entity(view: PageLines, title: Title) -> str | None:
    if title.prefix:
        return view.lines[title.index].raw[: len(title.prefix)].strip(" -")
    first = view.titles[0] if view.titles else title
    start = title.index if title.top else first.index
    for line in reversed(view.lines[:start]):
        text = line.text
        if line.is_row or v.BOILERPLATE.match(text) or v.UNIT.search(text) or len(text) > 80:
            continue
        if any(ch.isalpha() for ch in text) and not text.startswith(("item ", "part ")):
            return line.raw
    return None


def _extend(accepted: list[_Candidate], views: dict[int, PageLines], signals) -> list[_Candidate]:
    """Give each statement its continuation pages; a repeated title on the next page is consumed."""
    consumed: set[tuple[int, int]] = set()
    by_page: dict[int, list[_Candidate]] = {}
    for c in accepted:
        by_page.setdefault(c.page, []).append(c)
    for c in sorted(accepted, key=lambda c: (c.page, c.line)):
        if (c.page, c.line) in consumed:
            continue
        c.pages = [c.page]
        last_on_page = all(other.line <= c.line for other in by_page[c.page])
        later_titles = [t for t in views[c.page].titles if t.index > c.line]
        if not last_on_page or later_titles:
            continue
        for number in range(c.page + 1, c.page + 1 + _MAX_CONTINUATION):
            how = _continues(c, views.get(number), views.get(number - 1), signals.get(number, {}))
            if how is None:
                break
            c.pages.append(number)
            c.evidence["continuation"].append({"page": number, "how": how})
            c.evidence["spans"].append(_span(views[number]))
            titles = views[number].titles
            if titles and titles[0].top:
                consumed.add((number, titles[0].index))
            elif titles:
                break
    return [c for c in accepted if (c.page, c.line) not in consumed]


def _span(view: PageLines) -> dict:
    """The lines of a continuation page that belong to the statement: up to a title printed mid-page."""
    later = [t for t in view.titles if not t.top]
    last = view.lines[later[0].index - 1].number if later else view.lines[-1].number
    return {"page": view.page, "first_line": 1, "last_line": last}


def _continues(c: _Candidate, view: PageLines | None, before: PageLines | None, signals) -> str | None:
    """How `view` continues statement `c` ("title repeated", "rows"), or None when it does not."""
    if view is None or before is None or _STOPS & signals.keys():
        return None
    if view.titles and view.titles[0].top:
        title = view.titles[0]
        same = title.type == c.type and (title.continued or f"{title.text}|{title.prefix}" == c.phrase)
        segment = view.lines[title.index :]
        if same and not _supplemental(segment) and _entity(view, title) == c.entity:
            return "title continued" if title.continued else "title repeated"
        return None
    end = view.titles[0].index if view.titles else len(view.lines)
    region = view.lines[:end]
    rows = sum(line.is_row for line in region)
    prose = sum(line.is_prose for line in region)
    if rows < 2 or prose > rows // 2:
        return None
    if any(v.FOREIGN_HEADING.match(line.text) for line in heading_lines(region, 6)):
        return None
    ended = any(v.STATEMENT_END.match(line.text) for line in before.lines[-4:])
    if ended and not _anchors(region)[c.type]:
        return None
    return "rows"


def _group_sets(statements: list[_Candidate]) -> list[list[_Candidate]]:
    """Runs of nearby statements; a type seen again, or a gap of pages, starts the next set."""
    sets: list[list[_Candidate]] = []
    for c in statements:
        current = sets[-1] if sets else None
        if current and c.type not in {s.type for s in current} and c.page - current[-1].pages[-1] <= _SET_GAP:
            current.append(c)
        else:
            sets.append([c])
    return sets


def _choose_best(statements: list[_Candidate], main: list[_Candidate]):
    """One statement per type: the best score, ties going to the run that holds the most statements."""

    def rank(c: _Candidate) -> float:
        return c.score + _MAIN_SET_BONUS * any(c is m for m in main)

    best: dict[str, _Candidate] = {}
    for c in statements:
        if c.type not in best or rank(c) > rank(best[c.type]):
            best[c.type] = c
    return sorted(((c, None) for c in best.values()), key=lambda pair: (pair[0].page, pair[0].line))


def _choose_per_set(full: list[list[_Candidate]], statements: list[_Candidate]):
    chosen = [(c, index) for index, group in enumerate(full, start=1) for c in group]
    covered = {c.type for c, _ in chosen}
    orphans = _choose_best([c for c in statements if c.type not in covered], [])
    return sorted(chosen + orphans, key=lambda pair: (pair[0].page, pair[0].line))


def _to_detection(c: _Candidate, set_index: int | None, others: list[_Candidate]) -> Detection:
    rejected = [
        {"page": o.page, "title": o.title, "score": o.score, "lowered_by": o.evidence["lowered_by"]}
        for o in others
        if o.type == c.type
    ]
    evidence = c.evidence | {"score": c.score, "company": c.entity, "rejected": rejected[:8]}
    return Detection(
        type=c.type,
        pages=tuple(c.pages or [c.page]),
        confidence=max(0.0, min(1.0, c.score)),
        title=c.title,
        evidence=evidence,
        entity=c.entity if set_index is not None else None,
        set_index=set_index,
    )
