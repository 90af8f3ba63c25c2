"""Decimal atomic fields (`se_value`, `tr_total`, `tr_tax`, `tr_shipping`, `ti_price`) written as
Snowplow enrich writes them.

Snowplow reads the tracker's text with Java's `new BigDecimal(text)`, moves a negative scale to
zero (so that `1.25E7` is kept as the integer `12500000`), and writes the number with
`BigDecimal.toString()`. That writes plain digits for every integer and for fractions down to
`0.000001`; a smaller fraction keeps Java's scientific form (`0.0000001` is written `1E-7`, which
Snowplow's own tests expect). The text `null`, in any case, leaves the field empty; any other text
Java refuses is an error whose message is Snowplow's, Java's reason included.

The conversion works on the digits as text: no float is involved, so nothing is rounded, and
`1e400` is written as the 401 digits Snowplow writes.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ERROR_PREFIX: Final = "Cannot be converted to java.math.BigDecimal. Error : "
# Java parses up to this many characters (after the sign) in a `long`, and words some of its
# errors differently beyond it.
_COMPACT_LENGTH: Final = 18
_INT_MAX: Final = 2**31 - 1
# Snowplow would build an integer of a billion digits for `1e999999999`; Furrow refuses a number
# whose plain form would be longer than this, where a loader could not use it either.
MAX_PLAIN_DIGITS: Final = 10_000


class DecimalError(ValueError):
    """The text is not a number Java's BigDecimal reads; the message is Snowplow's."""


def snowplow_decimal(text: str) -> str:
    """The enriched-event text of a decimal tracker parameter; empty for `null`.

    Raises DecimalError, with Snowplow's message, for text that is not a number.
    """
    if text.lower() == "null":
        return ""
    negative, digits, scale = _big_decimal(text)
    if scale < 0:
        if len(digits) - scale > MAX_PLAIN_DIGITS:
            raise DecimalError(f"{ERROR_PREFIX}more than {MAX_PLAIN_DIGITS} digits")
        digits, scale = digits + "0" * -scale, 0
    return ("-" if negative and digits != "0" else "") + _layout(digits, scale)


def _big_decimal(text: str) -> tuple[bool, str, int]:
    """(negative, unscaled digits without leading zeros, scale) as `new BigDecimal(text)` reads
    them, or DecimalError with Java's reason."""
    if not text:
        # Java fails reading past the end of the text, with no message of its own.
        raise DecimalError(f"{ERROR_PREFIX}null")
    negative = text[0] == "-"
    body = text[1:] if text[0] in "+-" else text
    compact = len(body) <= _COMPACT_LENGTH
    digits: list[str] = []
    fraction_digits = 0
    seen_digit = False
    dot = False
    exponent = 0
    for index, character in enumerate(body):
        value = _digit(character)
        if value is not None:
            seen_digit = True
            digits.append(value)
            fraction_digits += dot
        elif character == ".":
            if dot:
                raise DecimalError(
                    f"{ERROR_PREFIX}Character array contains more than one decimal point."
                )
            dot = True
        elif character in "eE":
            exponent = _exponent(body[index + 1 :])
            break
        elif compact:
            raise DecimalError(
                f"{ERROR_PREFIX}Character {character} is neither a decimal digit number, decimal"
                ' point, nor "e" notation exponential mark.'
            )
        else:
            raise DecimalError(
                f"{ERROR_PREFIX}Character array is missing \"exponent\" mark 'e' or 'E'."
            )
    if not seen_digit:
        raise DecimalError(f"{ERROR_PREFIX}No digits found.")
    scale = fraction_digits - exponent
    if not -_INT_MAX - 1 <= scale <= _INT_MAX:
        raise DecimalError(f"{ERROR_PREFIX}Scale out of range.")
    return negative, "".join(digits).lstrip("0") or "0", scale


def _exponent(text: str) -> int:
    """The exponent after `e`, as Java reads it."""
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not text:
        # Java reads past the end of the text here too.
        raise DecimalError(f"{ERROR_PREFIX}null")
    # Leading zeros are skipped only while more than ten characters are left, as Java does.
    while len(text) > 10 and _digit(text[0]) == "0":
        text = text[1:]
    if len(text) > 10:
        raise DecimalError(f"{ERROR_PREFIX}Too many nonzero exponent digits.")
    value = 0
    for character in text:
        digit = _digit(character)
        if digit is None:
            raise DecimalError(f"{ERROR_PREFIX}Not a digit.")
        value = value * 10 + int(digit)
    if value > _INT_MAX + (sign < 0):
        raise DecimalError(f"{ERROR_PREFIX}Exponent overflow.")
    return sign * value


def _digit(character: str) -> str | None:
    """The ASCII digit for a decimal digit of any script (Java's `Character.isDigit`), else
    None."""
    if "0" <= character <= "9":
        return character
    value = unicodedata.decimal(character, None)
    return None if value is None else str(value)


def _layout(digits: str, scale: int) -> str:
    """Java's `BigDecimal.toString()` of a non-negative unscaled value and scale >= 0."""
    if scale == 0:
        return digits
    adjusted = len(digits) - 1 - scale
    if adjusted >= -6:
        if len(digits) > scale:
            return f"{digits[:-scale]}.{digits[-scale:]}"
        return "0." + "0" * (scale - len(digits)) + digits
    mantissa = digits if len(digits) == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}E{adjusted}"
