from django.http import QueryDict

from booking.signatures import compute_signature, is_valid_signature

# Twilio's documented example (docs "Webhooks security").
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_signature_matches_twilios_documented_example():
    assert compute_signature(TOKEN, URL, PARAMS) == EXPECTED


def test_parameter_order_does_not_matter():
    assert compute_signature(TOKEN, URL, list(reversed(PARAMS.items()))) == EXPECTED


def test_a_query_dict_signs_like_a_plain_mapping():
    form = QueryDict(mutable=True)
    form.update(PARAMS)
    assert compute_signature(TOKEN, URL, form) == EXPECTED


def test_every_value_of_a_repeated_parameter_is_signed():
    once = QueryDict("MediaUrl=a")
    twice = QueryDict("MediaUrl=a&MediaUrl=b")
    assert compute_signature(TOKEN, URL, once) != compute_signature(TOKEN, URL, twice)


def test_the_documented_signature_is_valid():
    assert is_valid_signature(TOKEN, URL, PARAMS, EXPECTED)


def test_a_changed_parameter_url_or_token_invalidates_the_signature():
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Digits": "1235"}, EXPECTED)
    assert not is_valid_signature(TOKEN, URL.replace("https", "http"), PARAMS, EXPECTED)
    assert not is_valid_signature("54321", URL, PARAMS, EXPECTED)


def test_a_missing_signature_or_token_is_never_valid():
    assert not is_valid_signature(TOKEN, URL, PARAMS, None)
    assert not is_valid_signature(TOKEN, URL, PARAMS, "")
    assert not is_valid_signature("", URL, PARAMS, compute_signature("", URL, PARAMS))


def test_vietnamese_text_is_signed_as_utf8():
    params = {"Body": "Có, tôi sẽ đến", "From": "+84912345678"}
    signature = compute_signature("stub-auth-token", "http://127.0.0.1:8000/webhooks/sms/inbound/", params)
    assert is_valid_signature("stub-auth-token", "http://127.0.0.1:8000/webhooks/sms/inbound/", params, signature)
    assert signature != compute_signature("stub-auth-token", "http://127.0.0.1:8000/webhooks/sms/inbound/",
                                          {**params, "Body": "Co, toi se den"})
