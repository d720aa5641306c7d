import pytest
from django.core.exceptions import ValidationError

from booking.phones import normalize_phone, validate_e164


@pytest.mark.parametrize(
    "typed",
    ["0912345678", "0912 345 678", "84912345678", "+84912345678", "+84 912-345-678", "0084912345678", "(091) 234.5678"],
)
def test_what_people_type_becomes_e164(typed):
    assert normalize_phone(typed) == "+84912345678"


@pytest.mark.parametrize("typed", ["", "12345", "+14155550100", "09123456", "091234567890", "abc0912345678", "+840912345678"])
def test_numbers_that_are_not_vietnamese_are_refused(typed):
    with pytest.raises(ValidationError):
        normalize_phone(typed)


def test_stored_numbers_must_already_be_e164():
    validate_e164("+84912345678")
    with pytest.raises(ValidationError):
        validate_e164("0912345678")
