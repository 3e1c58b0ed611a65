"""Words from rapidocr's recognised text boxes.

Input: one rapidocr result item, `[box, text, score]` or, with `return_word_box=True`,
`[box, text, score, char_boxes, chars, char_scores]`, in pixels. Output: `Word`s in PDF points (origin
top-left) that share the box's `group`, so the layout keeps them in one chunk unless a figure in a
table column starts there.

Invariants: the recogniser (trained mostly on Chinese) often drops the spaces between English words
("Researchanddevelopment", "CONSOLIDATEDSTATEMENTSOFINCOME", "IDEALMARKETING", "forthe"). The gaps
between its character cells do not tell word breaks from wide letters, so a glued run of 5+ letters
that is no word itself is split only when it splits entirely into words: of a statement vocabulary,
or of an English word list ranked by frequency (`english_words.txt`; one- and two-letter words only
from a short list), the likeliest split winning (each word costs a constant plus the log of its
rank); other runs stay as read ("NVIDIACORPORATION"). A word that is not a word but would be a
common one with one "l" in place of an "i", "t" or "!" ("Totai", "Receivabies", "Usefut", "Tota!")
is read as that word, alone or as a piece of a run. "&" and ")" glued to words get their spaces
back (not inside "PG&E"). A lone dash read as 一 or 二 becomes "—"; a rule typed with dashes or
equals signs ("-------") is dropped. A figure glued to the label before it ("2019)(9,814)") is split
off. A word's confidence is its weakest character's.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

from app.extraction.layout import Word

_DASH_LOOKALIKES = set("一二ー－_~-—–")
_RULE_CHARS = _DASH_LOOKALIKES | set("=.·…")
RULE_WIDTH = 2.0  # a dash cell is at most about two text heights wide; a typed rule is wider
_GLUED_FIGURE = re.compile(r"^(.*[^\s(])(\(\$?\d[\d,]*(?:\.\d+)?\))$")
_LETTERS = re.compile(r"[A-Za-z'’]{5,}")
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
    payables remeasurement remeasurements
"""
_VOCABULARY = frozenset(_VOCABULARY_TEXT.split())


def dash_token(token: str) -> str:
    return "—" if token and set(token) <= _DASH_LOOKALIKES else token


def _is_rule(token: str, width: float, height: float) -> bool:
    """Dashes, equals signs or dots wider than a dash cell: a rule typed with characters."""
    return set(token) <= _RULE_CHARS and width > RULE_WIDTH * height


_WORDS_FILE = Path(__file__).with_name("english_words.txt")
# Words of one or two letters a glued run may hold; longer ones come from the lists.
_SHORT = frozenset(
    {
        "an",
        "as",
        "at",
        "by",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "to",
        "up",
        "no",
        "be",
        "do",
        "if",
        "so",
        "we",
    }
)
_PIECE_COST = 10.0  # per word: a run splits into as few words as their frequencies allow
_VOCABULARY_COST = 6.0  # per word of the statement vocabulary
_MISREAD_COST = 3.0  # a piece read as a word only with one "l" put back
_COMMON = 20000  # a misread "l" is put back only to make a word at least this common


@cache
def _ranks() -> dict[str, int]:
    """Word → frequency rank (0 for the statement vocabulary), read once from the word list."""
    ranks = dict.fromkeys(_VOCABULARY | _SHORT, 0)
    with _WORDS_FILE.open(encoding="utf-8") as lines:
        words = (line.strip() for line in lines if not line.startswith("#"))
        for rank, word in enumerate(words, 1):
            ranks.setdefault(word, rank)
    return ranks


def _is_word(text: str) -> bool:
    lower = text.lower().replace("’", "'")
    return (len(lower) >= 3 or lower in _SHORT) and lower in _ranks()


def _l_fixed(word: str) -> str | None:
    """The common word one "l" read as "i", "t" or "!" hides ("Receivabies", "Tota!"), if any."""
    for index, char in enumerate(word):
        if char in "iItT!":
            upper = word.isupper() or (index == 0 and char.isupper())
            fixed = word[:index] + ("L" if upper else "l") + word[index + 1 :]
            rank = _ranks().get(fixed.lower())
            if rank is not None and rank <= _COMMON and _is_word(fixed):
                return fixed
    return None


@cache
def _piece(text: str, vocabulary_only: bool) -> tuple[str, float] | None:
    """A piece of a glued run as a word and its cost (rarer words cost more); None if not a word."""
    ranks = _ranks()
    if _is_word(text):
        rank = ranks[text.lower().replace("’", "'")]
        # Rare short words in the list are mostly abbreviations and fragments ("ufa", "manuf").
        rare = rank > (2000 if len(text) <= 3 else 40000 if len(text) == 4 else len(ranks))
        if (vocabulary_only and rank) or rare:
            return None
        # A statement's own words win over one rarer listed word ("CASH FLOW", not "CASHFLOW").
        return text, (_VOCABULARY_COST if rank == 0 else _PIECE_COST) + math.log(rank + 50)
    fixed = _l_fixed(text) if len(text) >= 4 and not vocabulary_only else None
    if fixed is None:
        return None
    return fixed, _PIECE_COST + _MISREAD_COST + math.log(ranks[fixed.lower()] + 50)


@cache
def _segment(run: str) -> tuple[str, ...]:
    """A glued run of letters as its likeliest words, or the run alone when it is a word or does not
    split entirely into words (a name: "NVIDIA"). A short capitalised run is more often a name than
    two glued words ("Salesforce"): it splits only into statement vocabulary ("Netincome")."""
    if _is_word(run):
        return (run,)
    name_like = len(run) <= 10 and run[:1].isupper() and run[1:].islower()
    best: list[tuple[float, tuple[str, ...]] | None] = [(0.0, ()), *([None] * len(run))]
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - 24), end):
            previous, piece = best[start], _piece(run[start:end], name_like)
            if previous is None or piece is None:
                continue
            cost = previous[0] + piece[1]
            if best[end] is None or cost < best[end][0]:
                best[end] = (cost, (*previous[1], piece[0]))
    found = best[-1]
    return found[1] if found is not None and len(found[1]) > 1 else (run,)


def _split_camel(match: re.Match) -> str:
    left, right = match.groups()
    both = left.lower() in _VOCABULARY and right.lower() in _VOCABULARY
    return f"{left} {right}" if both else match.group()


def _misread_l(match: re.Match) -> str:
    """A word outside the vocabulary that one "l" read as "i" or "t" would put in it ("Receivabies")."""
    word = match.group()
    return word if _is_word(word) else (_l_fixed(word) or word)


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
    token = re.sub(r"\)(?=[A-Za-z]{2})", ") ", token)  # "(DECREASE)IN" → "(DECREASE) IN"
    token = re.sub(r"(?<=[A-Za-z]{3})&|&(?=[A-Za-z]{3})", " & ", token).strip()  # not "PG&E"
    token = _LETTERS.sub(lambda match: " ".join(_segment(match.group())), token)
    token = _CAMEL.sub(_split_camel, token)  # "inCash" → "in Cash"
    token = re.sub(r"([A-Za-z]{2,})(?=\d)", _word_then_space, token)  # "ENDED31" → "ENDED 31"
    token = re.sub(r"(?<=\d)([A-Za-z]{2,})", _space_then_word, token)  # "0.570per" → "0.570 per"
    token = re.sub(r"[A-Za-z]{3,}!|[A-Za-z]{4,}", _misread_l, token)  # "Totai", "Tota!" → "Total"
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
