"""Check digits and plausibility checks for Chinese identity and card numbers."""

from __future__ import annotations

import datetime as _dt

# Weights of GB 11643-1999 (ISO 7064 MOD 11-2) for the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for each value of (weighted sum mod 11).
_ID_CHECK_CHARS = "10X98765432"

# The first two digits of a resident ID are a province-level division code.
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})


def id_check_char(first17: str) -> str:
    """Return the check character (0-9 or X) for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return True


def id_birth_date(number: str) -> _dt.date | None:
    """Return the birth date encoded in a 15- or 18-digit resident ID, or None if it is no valid date."""
    if len(number) == 18:
        year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
        if not 1900 <= year <= 2099:
            return None
    elif len(number) == 15:
        # 15-digit IDs were issued before 2000 and carry a two-digit year of the 1900s.
        year, month, day = 1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])
    else:
        return None
    if not _valid_date(year, month, day):
        return None
    return _dt.date(year, month, day)


def is_plausible_id(number: str) -> bool:
    """Return True if a 15- or 18-digit string has a province code and a valid birth date.

    The check digit is not tested here; see ``is_valid_id18``.
    """
    if len(number) not in (15, 18):
        return False
    if not number[:-1].isascii() or not number[:-1].isdigit():
        return False
    last = number[-1]
    if len(number) == 15 and not last.isdigit():
        return False
    if len(number) == 18 and not (last.isdigit() or last in "Xx"):
        return False
    return number[:2] in PROVINCE_CODES and id_birth_date(number) is not None


def is_valid_id18(number: str) -> bool:
    """Return True if an 18-character resident ID is plausible and its check character matches."""
    if len(number) != 18 or not is_plausible_id(number):
        return False
    return id_check_char(number[:17]) == number[17].upper()


def luhn_valid(number: str) -> bool:
    """Return True if a digit string passes the Luhn (mod 10) check used by bank cards."""
    if not number or not number.isascii() or not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
