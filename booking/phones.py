"""Vietnamese phone numbers in E.164 (+84...), the form the SMS gateway needs."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# +84 then a national significant number of 9 digits (mobile and most landlines);
# a few old landline ranges have 10. ASCII digits only: Python's \d also takes
# Arabic-Indic, Devanagari and full-width digits, which no gateway dials.
E164_VN = re.compile(r"^\+84[1-9][0-9]{8,9}$", re.ASCII)


def normalize_phone(raw: str) -> str:
    """Accept what people type (0912 345 678, 84912345678, +84 912-345-678) and
    return +84912345678; raise ValidationError for anything else."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("0"):
        digits = "+84" + digits[1:]
    elif digits.startswith("84"):
        digits = "+" + digits
    if not E164_VN.match(digits):
        raise ValidationError(
            _("Enter a Vietnamese phone number such as 0912 345 678 or +84912345678."),
            code="invalid_phone",
        )
    return digits


def validate_e164(value: str) -> None:
    if value and not E164_VN.match(value):
        raise ValidationError(
            _("Phone numbers are stored in E.164 form, for example +84912345678."),
            code="invalid_phone",
        )


def mask_phone(number: str) -> str:
    """+84912345678 as +8491****678: enough to tell numbers apart on a list of
    delivery failures, not enough to call or look up the person."""
    if not number:
        return ""
    if len(number) < 9:
        return "*" * len(number)
    return number[:5] + "*" * (len(number) - 8) + number[-3:]
