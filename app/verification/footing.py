"""Foot every total row: infer its components from the statement's structure and check every column.

Input: a `Statement`. Output: one `Finding` per (total row, column with a printed total).
Invariants:
- Components come only from structure, never from a search over subsets that happen to sum. Walking up
  from a total: lines at its group's level or deeper are components; an inner total is a component
  and its own group (with the header that opened it) is skipped; the walk ends at a shallower header,
  at the header the total closes ("Current assets" / "Total current assets"), at a shallower row, or
  at the top. Headers that close nothing ("Changes in operating assets and liabilities") are passed.
  A second walk ignores indentation (parsers misjudge it; totals are often indented deeper).
- Readings, in order, for each walk: all it collected; cut at the first header passed; every shorter
  run of nearest siblings (bank-style "Net interest income" = the two totals above it); then the
  caption split "Total A and B" = "Total A" + "Total B". Each as printed, then with contra captions
  ("cost", "expense", "less", "treasury", ..., or the header they sit under, or what the total's
  caption says it is "excluding") subtracted unless printed negative, then with rows captioned
  "Less:" subtracted whatever their sign (a loss attributable to noncontrolling interests).
- A subtotal printed as a line: when the reading is the total's nearest run and its top row is a
  line equal to the rows above it up to their header, that line gets its own sum check and the
  total's group reaches back to the header (vertical equity statements).
- The first reading that foots in every column is recorded. It is refused (recorded as failed, and
  marked `refused`) when an earlier reading of other rows misses in one column only, by one unit or
  one known misread: that is a wrong number, not a different structure. In OCR text the same applies
  between the two sign readings of the same rows, either way round (a lost parenthesis).
- A total printed as nil (a dash) right under the header that opens its group foots on no
  components: the group is empty.
- When nothing foots, the reading that misses in the fewest columns (then by the least) is recorded
  as failed, with a note when it misses by one unit of the last printed digit; a total
  with a printed value and no reading at all is recorded as rule "unfooted", ok=False. So a total is
  either proven or its statement is not verified. Opening balances are not totals (`is_opening`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from app.statements.format import Check, Item, Statement
from app.verification.findings import Finding, has_values, integer_column, sum_finding, value_at, weighted_sum
from app.verification.labels import excluded, is_contra, normalize, says_less, words
from app.verification.misreads import explains
from app.verification.structure import (
    Span,
    Walk,
    context_header,
    effective_label,
    is_opening,
    pair_rows,
    walks,
)


@dataclass(frozen=True)
class Candidate:
    rows: tuple[int, ...]
    signs: tuple[int, ...]
    opener: int | None


def _contra_signs(
    items: Sequence[Item], t: int, rows: Sequence[int], opener: int | None, *, operator: bool = False
) -> tuple[int, ...]:
    """Contra captions subtracted when printed positive; with `operator`, "Less:" rows whatever their sign."""
    left_out = excluded(items[t].label)
    signs = []
    for row in rows:
        printed_positive = any(v is not None and v > 0 for v in items[row].values)
        labels = [effective_label(items, row)]
        context = context_header(items, row)
        if context is not None and context != opener:
            labels.append(items[context].label)
        contra = any(is_contra(x) for x in labels) or bool(left_out and left_out <= words(items[row].label))
        subtract = (printed_positive and contra) or (operator and says_less(items[row].label))
        signs.append(-1 if subtract else 1)
    return tuple(signs)


def _readings(items: Sequence[Item], t: int, found: list[Walk]) -> Iterator[list[Candidate]]:
    """The structural readings of total `t`, most likely first: each row set as printed, then contra."""
    seen: set[tuple[int, ...]] = set()
    for walk in found:
        n = len(walk.elements)
        cut = min((k for k in walk.breaks if k > 0), default=None)
        for k in dict.fromkeys([n, *([cut] if cut is not None else []), *range(n - 1, 0, -1)]):
            rows = tuple(sorted(walk.elements[:k]))
            if k > 0 and rows not in seen:
                seen.add(rows)
                opener = walk.opener if k == n and walk.opener is not None else walk.breaks.get(k)
                yield _signed(items, t, rows, opener)
    pair = pair_rows(items, t)
    if pair is not None and pair not in seen:
        yield _signed(items, t, pair, None)


def _signed(items: Sequence[Item], t: int, rows: tuple[int, ...], opener: int | None) -> list[Candidate]:
    """The rows as printed, with contra captions subtracted, then with "Less:" rows subtracted too."""
    readings = [Candidate(rows, (1,) * len(rows), opener)]
    for operator in (False, True):
        signed = Candidate(rows, _contra_signs(items, t, rows, opener, operator=operator), opener)
        if signed not in readings:
            readings.append(signed)
    return readings


def candidates(items: Sequence[Item], t: int, spans: dict[int, Span]) -> list[Candidate]:
    """Every structural reading of total `t`, most likely first."""
    return [c for group in _readings(items, t, walks(items, t, spans)) for c in group]


def _misses(
    items: Sequence[Item], t: int, candidate: Candidate, columns: Sequence[int]
) -> dict[int, Decimal]:
    misses = {}
    for column in columns:
        printed = value_at(items[t], column)
        computed = weighted_sum(items, candidate.rows, candidate.signs, column)
        if printed is not None and printed != computed:
            misses[column] = printed - computed
    return misses


def _one_misread_away(statement: Statement, t: int, candidate: Candidate, misses: dict[int, Decimal]) -> bool:
    if len(misses) != 1:
        return False
    ((column, miss),) = misses.items()
    items = statement.items
    whole = integer_column(statement, column, items[t].value_kind)
    cells: list[tuple[int, int | None]] = [(t, None), *zip(candidate.rows, candidate.signs, strict=True)]
    for row, sign in cells:
        value = value_at(items[row], column)
        # a misread total moves `printed` (needs -miss); a misread component moves `computed` by sign*delta
        delta = -miss if sign is None else sign * miss
        if value is not None and explains(value, delta, integer_column=whole):
            return True
    return False


def _choose(
    statement: Statement, t: int, readings: Iterator[list[Candidate]], columns: Sequence[int]
) -> tuple[Candidate | None, bool]:
    """The first reading that foots everywhere, unless a rival is a single misread away (refused)."""
    items = statement.items
    seen: list[Candidate] = []
    for group in readings:
        earlier = list(seen)
        seen.extend(group)
        for candidate in group:
            if _misses(items, t, candidate, columns):
                continue
            rivals = [c for c in earlier if c.rows != candidate.rows]
            # the same rows with other signs differ only by lost parentheses, which text layers do not lose
            if statement.text_source.ocr:
                rivals += [c for c in earlier + group if c.rows == candidate.rows and c != candidate]
            for other in rivals:
                if _one_misread_away(statement, t, other, _misses(items, t, other, columns)):
                    return other, True
            return candidate, False

    # none foots: report the reading that misses in the fewest columns (the misread is likely there)
    def distance(c: Candidate) -> tuple[int, Decimal]:
        misses = _misses(items, t, c, columns)
        return len(misses), sum((abs(m) for m in misses.values()), Decimal(0))

    return min(seen, key=distance, default=None), False


def _span(items: Sequence[Item], candidate: Candidate, spans: dict[int, Span]) -> Span:
    starts = [spans[r].start if r in spans else r for r in candidate.rows]
    if candidate.opener is not None:
        starts.append(candidate.opener)
    return Span(min(starts), candidate.opener)


def _rule(statement: Statement, label: str) -> str:
    is_balance = normalize(label).startswith("balance")
    return "rollforward" if statement.type == "shareholders_equity" and is_balance else "sum"


def foot(statement: Statement) -> tuple[list[Finding], dict[int, Span]]:
    """Sum checks for every total row in every column where it prints a value, and each total's span."""
    items = statement.items
    spans: dict[int, Span] = {}
    findings: list[Finding] = []
    for t, item in enumerate(items):
        if item.kind != "total" or not has_values(item) or is_opening(statement, t):
            continue
        columns = [j for j in range(len(statement.columns)) if value_at(item, j) is not None]
        if _empty_group(items, t, columns):
            spans[t] = Span(t - 1, t - 1)
            findings += [sum_finding(statement, "sum", t, j, (), ()) for j in columns]
            continue
        found = walks(items, t, spans)
        chosen, refused = _choose(statement, t, _readings(items, t, found), columns)
        if chosen is None:
            findings.extend(_unfooted(statement, t, columns))
            continue
        scope = frozenset([t, *(r for w in found for r in w.elements), *(pair_rows(items, t) or ())])
        spans[t] = _span(items, chosen, spans)
        nested = None if refused else _nested_line(statement, chosen, found[0], columns)
        if nested is not None:
            line, rows, header = nested
            spans[t] = Span(header, header)
            findings += [sum_finding(statement, "sum", line, j, rows, (1,) * len(rows)) for j in columns]
        rule = _rule(statement, item.label)
        footed = [sum_finding(statement, rule, t, j, chosen.rows, chosen.signs) for j in columns]
        reach = None if all(f.check.ok for f in footed) else _reach(statement, t, found, columns)
        findings += [replace(f, scope=scope, reach=reach, refused=refused) for f in footed]
    return findings, spans


def _empty_group(items: Sequence[Item], t: int, columns: Sequence[int]) -> bool:
    """A total printed as nil right under the header that opens its group: the group is empty
    ("Non-current liabilities" / "Total non-current liabilities  -  -"), and nothing sums to 0."""
    return t > 0 and items[t - 1].kind == "header" and all(value_at(items[t], j) == 0 for j in columns)


def _nested_line(
    statement: Statement, chosen: Candidate, walk: Walk, columns: Sequence[int]
) -> tuple[int, tuple[int, ...], int] | None:
    """A subtotal printed as a line: the total's nearest run starts with a line equal to the rows above it.

    "Net unappropriated retained earnings" (a line summing the rows under "Unappropriated:"), then
    "Less: appropriation", then "Total unappropriated retained earnings": the total foots on the
    last two rows, and the rows above them up to the header belong to its group only if the line
    sums them in every column. Then the line is checked, and the group reaches back to the header.
    """
    items = statement.items
    top = min(chosen.rows)
    if items[top].kind != "line" or top not in walk.elements:
        return None
    at = walk.elements.index(top)
    if sorted(walk.elements[: at + 1]) != sorted(chosen.rows):
        return None
    cut = min((k for k in walk.breaks if k > at), default=None)
    rows = tuple(sorted(walk.elements[at + 1 : cut])) if cut is not None else ()
    if cut is None or len(rows) < 2 or any(items[r].kind != "line" for r in rows):
        return None
    if _misses(items, top, Candidate(rows, (1,) * len(rows), None), columns):
        return None
    if any(value_at(items[top], j) is None for j in columns):
        return None
    return top, rows, walk.breaks[cut]


def _reach(statement: Statement, t: int, found: list[Walk], columns: Sequence[int]) -> frozenset[int]:
    """Columns where one changed cell could make some reading foot: those a reading misses alone."""
    reach: set[int] = set()
    for group in _readings(statement.items, t, found):
        for candidate in group:
            misses = _misses(statement.items, t, candidate, columns)
            if len(misses) <= 1:
                reach.update(misses or columns)
    return frozenset(reach)


def _unfooted(statement: Statement, t: int, columns: Sequence[int]) -> list[Finding]:
    item = statement.items[t]
    return [
        Finding(
            Check(
                rule="unfooted",
                row=item.label,
                row_index=t,
                column=statement.columns[j].key,
                printed=value_at(item, j),
                computed=None,
                ok=False,
            ),
            ((t, j),),
        )
        for j in columns
    ]
