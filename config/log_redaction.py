"""What log lines must not carry: phone numbers, calendar feed tokens, search
terms and secrets (API and resume tokens, TURN credentials, passwords,
signatures, Authorization and Cookie headers, passwords in URLs).

`RedactSecrets` is the filter on every handler of settings.LOGGING; it rewrites
the record's message, traceback and stack before any handler formats it.
Standard library only: the SMS stub uses it without Django.
"""

import logging
import re

REDACTED = "[redacted]"

# Vietnamese numbers as people and providers write them: +84…, 84…, 0…, URL-encoded
# %2B84…, with spaces, dots or dashes between the digits. Not inside longer words
# or numbers (message ids, timestamps).
PHONE = re.compile(
    r"(?<![\w%+])(?:(?:\+|%2B)84[\s.-]?|84|0)[1-9](?:[\s.-]?\d){8,9}(?!\w)", re.IGNORECASE
)
FEED_PATH = re.compile(r"(/calendars/)[^/\s?#\"']+(\.ics)")
SEARCH_TERM = re.compile(r"([?&](?:q|search)=)[^&\s\"'#]*")
AUTHORIZATION = re.compile(
    r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(basic|bearer|token|digest)\s+)?[^\s\"',;]+"
)
AUTH_SCHEME = re.compile(r"\b(Token|Bearer|Basic)\s+[A-Za-z0-9+/=._~-]{16,}")
COOKIE = re.compile(r"(?i)(?<![a-z])((?:set-)?cookie[\"']?\s*[:=]\s*[\"']?)[^\"'\n]+")
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")
# key=value, key: value, "key": "value", 'key': 'value'
SECRET_VALUE = re.compile(
    r"(?i)([\"']?(?<![a-z0-9])(?:resume(?:_token)?|(?:auth_|access_|api_|feed_)?token|api_key|credential|password|passwd"
    r"|secret|signature|sessionid|csrftoken|csrfmiddlewaretoken)(?![a-z0-9_])[\"']?\s*[:=]\s*[\"']?)[^\"'\s&,;}\]]+"
)


def mask_number(found: str) -> str:
    """Any written form of a number, masked as +8491****678."""
    digits = re.sub(r"\D", "", found.replace("%2B", "").replace("%2b", ""))
    national = digits[2:] if digits.startswith("84") and not found.startswith("0") else digits.lstrip("0")
    return "+84" + national[:2] + "*" * (len(national) - 5) + national[-3:]


def redact(text: str) -> str:
    text = FEED_PATH.sub(rf"\1{REDACTED}\2", text)
    text = SEARCH_TERM.sub(rf"\1{REDACTED}", text)
    text = URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    text = AUTHORIZATION.sub(lambda m: m.group(1) + (m.group(2) + " " if m.group(2) else "") + REDACTED, text)
    text = AUTH_SCHEME.sub(rf"\1 {REDACTED}", text)
    text = COOKIE.sub(rf"\1{REDACTED}", text)
    text = SECRET_VALUE.sub(rf"\1{REDACTED}", text)
    return PHONE.sub(lambda m: mask_number(m.group(0)), text)


class RedactSecrets(logging.Filter):
    """Rewrites a record in place, so that every handler after this one sees
    only the redacted text too."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
