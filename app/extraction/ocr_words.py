"""Words from rapidocr's recognised text boxes.

Input: one rapidocr result item, `[box, text, score]` or, with `return_word_box=True`,
`[box, text, score, char_boxes, chars, char_scores]`, in pixels. Output: `Word`s in PDF points (origin
top-left) that share the box's `group`, so the layout keeps them in one chunk unless a figure in a
table column starts there.

Invariants: the recogniser (trained mostly on Chinese) often drops the spaces between English words
("Researchanddevelopment", "CONSOLIDATEDSTATEMENTSOFINCOME"). The gaps between its character cells do
not tell word breaks from wide letters, so a glued run of 7+ letters is split only when it splits
entirely into words of a statement vocabulary (fewest words wins), and a lower-case word glued to a
capitalised one ("inCash") only when both are vocabulary words; other runs stay as read. A word that
is not in the vocabulary but would be with one "l" in place of an "i" or "t" ("Totai", "Receivabies",
"Usefut") is read as that word. A lone dash
read as 一 or 二 becomes "—"; a rule typed with dashes or equals signs ("-------") is dropped. A figure
glued to the label before it ("2019)(9,814)") is split off. A word's confidence is its weakest
character's.
"""

from __future__ import annotations

import re
from functools import cache

from app.extraction.layout import Word

_DASH_LOOKALIKES = set("一二ー－_~-—–")
_RULE_CHARS = _DASH_LOOKALIKES | set("=.·…")
RULE_WIDTH = 2.0  # a dash cell is at most about two text heights wide; a typed rule is wider
_GLUED_FIGURE = re.compile(r"^(.*[^\s(])(\(\$?\d[\d,]*(?:\.\d+)?\))$")
_LETTERS = re.compile(r"[A-Za-z'’]{7,}")
_CAMEL = re.compile(r"(?<![A-Za-z])([a-z]{2,})([A-Z][a-z]+)(?![A-Za-z])")
# Words of statement titles, headings and row labels: glued runs split only into these.
_VOCABULARY_TEXT = """
    a accompanying accounting accounts accrued accumulated acquired acquisition acquisitions activities
    additional adjustment adjustments administrative adoption affiliates after allowance amortization
    amount amounts an and any april as assets at attributable august authorized available average
    balance balances bank based basic before beginning benefit benefits borrowings business by capital
    carrying cash ceded change changes charges claims class combined common company compensation
    comprehensive condensed condition consolidated contents contingencies continuing contract contracts
    conversion convertible corporation cost costs credit cumulative current customer customers data debt
    december declared deferred deficit deposits depreciation derivative development diluted dilutive
    discontinued dividend dividends due during earnings effect employee end ended equipment equity
    equivalents except exchange exercise expense expenses fair february finance financial financing flow
    flows for foreign from gain gains general goods goodwill gross group hedge hedges hedging held
    impairment in inc including income increase insurance intangible interest inventories inventory
    investing investment investments issuance issued january july june lease leases liabilities
    liability limited loans long loss losses march margin marketable marketing maturities may members
    millions minority months net nine non noncontrolling note notes november obligation obligations
    october of on operating operations option options or other outstanding owners paid par partners
    payable payment payments per period plan plans plc position preferred premiums prepaid proceeds
    products profit property provided provision purchase purchases realized receipt receivable
    receivables reclassification related repayment repayments repurchase repurchases research restricted
    restructuring retained revenue revenues sale sales securities see selling september services share
    shareholders shareholders' shares sheet sheets short six software sold statement statements stock
    stockholders stockholders' subsidiaries supplemental table tax taxes term thousands three to total
    translation treasury twelve unearned units unrealized used value vesting warrants weeks weighted
    standard consequences intra entity asset transfer stockholder shareholder the plant outflow outflows
    inflow inflows medium loan refund principal analysis disclosed call generated received unless stated
    with withholding year years year's prior appropriation appropriated unappropriated expansion
"""
_VOCABULARY = frozenset(_VOCABULARY_TEXT.split())


def dash_token(token: str) -> str:
    return "—" if token and set(token) <= _DASH_LOOKALIKES else token


def _is_rule(token: str, width: float, height: float) -> bool:
    """Dashes, equals signs or dots wider than a dash cell: a rule typed with characters."""
    return set(token) <= _RULE_CHARS and width > RULE_WIDTH * height


@cache
def _segment(run: str) -> tuple[str, ...]:
    """A glued run of letters as the fewest vocabulary words, or the run alone when it does not split."""
    lower = run.lower().replace("’", "'")
    if lower in _VOCABULARY:
        return (run,)
    best: list[tuple[int, ...] | None] = [(), *([None] * len(lower))]
    for end in range(1, len(lower) + 1):
        for start in range(max(0, end - 16), end):
            previous = best[start]
            better = best[end] is None or (previous is not None and len(previous) + 1 < len(best[end]))
            if previous is not None and lower[start:end] in _VOCABULARY and better:
                best[end] = (*previous, end)
    cuts = best[-1]
    if not cuts:
        return (run,)
    return tuple(run[a:b] for a, b in zip((0, *cuts), cuts, strict=False))


def _split_camel(match: re.Match) -> str:
    left, right = match.groups()
    both = left.lower() in _VOCABULARY and right.lower() in _VOCABULARY
    return f"{left} {right}" if both else match.group()


def _misread_l(match: re.Match) -> str:
    """A word outside the vocabulary that one "l" read as "i" or "t" would put in it ("Receivabies")."""
    word = match.group()
    if word.lower() in _VOCABULARY:
        return word
    for index, char in enumerate(word):
        if char in "iItT":
            fixed = word[:index] + ("L" if word.isupper() else "l") + word[index + 1 :]
            if fixed.lower() in _VOCABULARY:
                return fixed
    return word


def _word_then_space(match: re.Match) -> str:
    word = match.group(1)
    return f"{word} " if word.lower() in _VOCABULARY else word


def _space_then_word(match: re.Match) -> str:
    word = match.group(1)
    return f" {word}" if word.lower() in _VOCABULARY else word


def respace(token: str) -> str:
    """Put back the spaces the recogniser dropped: after commas, and inside glued vocabulary words."""
    token = re.sub(r"([,;:])(?=[A-Za-z(])", r"\1 ", token)
    token = re.sub(r"(?<=[A-Za-z])\((?=[A-Za-z$\d])", " (", token)
    token = _LETTERS.sub(lambda match: " ".join(_segment(match.group())), token)
    token = _CAMEL.sub(_split_camel, token)  # "inCash" → "in Cash"
    token = re.sub(r"([A-Za-z]{2,})(?=\d)", _word_then_space, token)  # "ENDED31" → "ENDED 31"
    token = re.sub(r"(?<=\d)([A-Za-z]{2,})", _space_then_word, token)  # "0.570per" → "0.570 per"
    token = re.sub(r"[A-Za-z]{4,}", _misread_l, token)  # "Totai" → "Total"
    return re.sub(r",(?=\d{4}\b)", ", ", token)  # "27,2019": a thousands group has three digits


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for token in text.split():
        glued = _GLUED_FIGURE.match(token)
        parts = glued.groups() if glued else (token,)
        out.extend(piece for part in parts for piece in respace(part).split())
    return out


def _spread(text: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    """Tokens of `text` placed across [x0, x1] in proportion to their characters."""
    step = (x1 - x0) / max(len(text), 1)
    placed, position = [], 0
    for token in text.split(" "):
        if token:
            placed.append((token, x0 + position * step, x0 + (position + len(token)) * step))
        position += len(token) + 1
    return placed


def _char_words(item: list) -> list[tuple[str, float, float, float]] | None:
    """(text, x0, x1, confidence) per word from per-character cells, or None when they do not fit."""
    if len(item) < 6 or len(item[4]) != len(item[3]) or "".join(item[4]) != item[1]:
        return None
    words: list[tuple[str, float, float, float]] = []
    chars: list[tuple[str, float, float, float]] = []
    for char, cell, score in [*zip(item[4], item[3], item[5], strict=True), (" ", [(0, 0)], 1.0)]:
        if char == " ":
            if chars:
                text = "".join(c[0] for c in chars)
                words.append((text, chars[0][1], chars[-1][2], min(c[3] for c in chars)))
            chars = []
        else:
            chars.append((char, min(p[0] for p in cell), max(p[0] for p in cell), float(score)))
    return words


def box_words(item: list, scale: float, group: int) -> list[Word]:
    """The words of one recognised box, in PDF points."""
    box, text, score = item[0], item[1].strip(), float(item[2])
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    top, bottom = min(ys) * scale, max(ys) * scale
    raw = _char_words(item) or [(t, a, b, score) for t, a, b in _spread(text, min(xs), max(xs))]
    words = []
    for word_text, x0, x1, confidence in raw:
        for token, a, b in _spread(" ".join(_tokens(word_text)), x0, x1):
            if not _is_rule(token, b - a, max(ys) - min(ys)):
                text = dash_token(token)
                words.append(Word(text, a * scale, top, b * scale, bottom, round(confidence, 4), group))
    return words
