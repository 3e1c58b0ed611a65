"""The single-cell misreads verification knows about, as alternative values of one printed number.

Input: a value as stored (`Decimal`), and whether its column holds integers. Output: the values the
printed number could have been, each with the name of the misread that explains it. Invariants: pure;
alternatives keep the printed number of decimals (except the separator and decimal-point misreads,
which are what change it); the value itself is never among its alternatives.
"""

from __future__ import annotations

from decimal import Decimal

DIGIT_CONFUSIONS: dict[str, tuple[str, ...]] = {
    "1": ("7",),
    "7": ("1",),
    "0": ("8",),
    "8": ("0", "3"),
    "5": ("6",),
    "6": ("5",),
    "3": ("8",),
}


def unit_of(value: Decimal) -> Decimal:
    """One unit of the last printed digit: 1 for "3892", 0.01 for "4.59"."""
    exponent = value.as_tuple().exponent
    return Decimal(1).scaleb(min(int(exponent), 0)) if isinstance(exponent, int) else Decimal(1)


def decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -int(exponent)) if isinstance(exponent, int) else 0


def digit_confusions(value: Decimal) -> list[Decimal]:
    """Every value one OCR digit confusion (1/7, 0/8, 5/6, 3/8) away, without inventing a leading zero."""
    text = format(abs(value), "f")
    found: list[Decimal] = []
    for pos, char in enumerate(text):
        for other in DIGIT_CONFUSIONS.get(char, ()):
            candidate = text[:pos] + other + text[pos + 1 :]
            integer = candidate.split(".")[0]
            if len(integer) > 1 and integer.startswith("0"):
                continue
            number = Decimal(candidate)
            found.append(-number if value < 0 else number)
    return found


def separator_misread(value: Decimal, integer_column: bool) -> Decimal | None:
    """`3.892` in a column of integers was `3,892`: the thousands separator read as a decimal point."""
    if not integer_column or decimals_of(value) != 3:
        return None
    return (value * 1000).quantize(Decimal(1))


def dropped_decimal_point(value: Decimal, decimals: int) -> Decimal | None:
    """`459` among per-share figures printed with two decimals was `4.59`."""
    if decimals <= 0 or decimals_of(value) != 0 or value == 0:
        return None
    return value.scaleb(-decimals)


def alternatives(
    value: Decimal, *, integer_column: bool, per_share_decimals: int = 0
) -> list[tuple[str, Decimal]]:
    """Every single-cell misread that could have turned the printed number into `value`."""
    found: list[tuple[str, Decimal]] = []
    if value != 0:
        found.append(("lost_sign", -value))
    separator = separator_misread(value, integer_column)
    if separator is not None:
        found.append(("ocr_separator", separator))
    point = dropped_decimal_point(value, per_share_decimals)
    if point is not None:
        found.append(("dropped_decimal_point", point))
    found.extend(("digit_confusion", alt) for alt in digit_confusions(value))
    return [(name, alt) for name, alt in found if alt != value]


def explains(value: Decimal, delta: Decimal, *, integer_column: bool) -> bool:
    """True when one unit or one misread of `value` changes it by exactly `delta`."""
    if delta == 0:
        return False
    if abs(delta) == unit_of(value):
        return True
    return any(alt - value == delta for _, alt in alternatives(value, integer_column=integer_column))
