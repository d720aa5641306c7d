"""The SMS gateway client: Twilio's Messages API over httpx.

    POST {SMS_API_BASE}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json

Every answer becomes either a `Sent` or one of the errors below, so the outbox
knows whether to retry, give up, or stop writing to a number.
"""

from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone

import httpx
from django.conf import settings

# Twilio error codes (https://www.twilio.com/docs/api/errors) the outbox acts on.
INVALID_NUMBER_CODES = {21211, 21214, 21217, 21407, 21421, 21612, 21614}
OPTED_OUT_CODES = {21610}


class SmsError(Exception):
    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


class RetryLater(SmsError):
    """429, 5xx or no answer in time. `outcome_unknown` means the provider may
    have accepted the message (a time-out or a 5xx after sending): reconcile
    before sending it again."""

    def __init__(self, message, *, retry_after: float | None = None, outcome_unknown: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class InvalidNumber(SmsError):
    pass


class OptedOut(SmsError):
    pass


class Rejected(SmsError):
    """Any other refusal (bad credentials, bad request): retrying will not help."""


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


@dataclass(frozen=True)
class ProviderMessage:
    sid: str
    to: str
    body: str
    status: str
    date_created: datetime | None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _error_from(response: httpx.Response) -> SmsError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    message = (body.get("message") if isinstance(body, dict) else None) or response.reason_phrase
    status = response.status_code
    if status == 429:
        return RetryLater(message, retry_after=_retry_after(response), code=code, status=status)
    if status in (401, 403):
        # Our credentials, not the message: wait for someone to fix the setting.
        return RetryLater(f"the provider refused our credentials: {message}", code=code, status=status)
    if status >= 500:
        # The provider may have stored the message before failing.
        return RetryLater(message, retry_after=_retry_after(response), outcome_unknown=True, code=code, status=status)
    if code in OPTED_OUT_CODES:
        return OptedOut(message, code=code, status=status)
    if code in INVALID_NUMBER_CODES:
        return InvalidNumber(message, code=code, status=status)
    return Rejected(message, code=code, status=status)


def _parse_date(value: str | None) -> datetime | None:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


class SmsGateway:
    def __init__(self, *, base_url=None, account_sid=None, auth_token=None, sender=None, messaging_service_sid=None,
                 timeout=None, transport=None):
        self.base_url = (base_url or settings.SMS_API_BASE).rstrip("/")
        self.account_sid = account_sid or settings.SMS_ACCOUNT_SID
        self.auth_token = auth_token or settings.SMS_AUTH_TOKEN
        self.sender = sender if sender is not None else settings.SMS_FROM
        self.messaging_service_sid = messaging_service_sid or settings.SMS_MESSAGING_SERVICE_SID
        self.client = httpx.Client(
            auth=(self.account_sid, self.auth_token),
            timeout=httpx.Timeout(timeout or settings.SMS_TIMEOUT_SECONDS),
            transport=transport,
        )

    def close(self):
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> Sent:
        data = {"To": to, "Body": body}
        if self.messaging_service_sid:
            data["MessagingServiceSid"] = self.messaging_service_sid
        else:
            data["From"] = self.sender
        if status_callback:
            data["StatusCallback"] = status_callback
        try:
            response = self.client.post(self.messages_url, data=data)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # No connection, so nothing was sent.
            raise RetryLater(f"could not reach the SMS provider: {error}") from error
        except httpx.TransportError as error:
            # The request may have reached the provider: its outcome is unknown.
            raise RetryLater(f"no answer from the SMS provider: {error}", outcome_unknown=True) from error
        if response.status_code not in (200, 201):
            raise _error_from(response)
        body_json = response.json()
        return Sent(sid=body_json["sid"], status=body_json.get("status", "queued"))

    def list_messages(self, *, to: str, sent_after: datetime, max_pages: int = 10) -> list[ProviderMessage]:
        """Messages to one number created at or after a moment. Twilio filters by
        UTC day; we filter finer. Its dates have whole seconds, so callers should
        leave a margin before `sent_after`."""
        params = {"To": to, "DateSent>": sent_after.astimezone(dt_timezone.utc).date().isoformat(), "PageSize": 100}
        url, messages = self.messages_url, []
        for _ in range(max_pages):
            try:
                response = self.client.get(url, params=params)
            except httpx.HTTPError as error:
                raise RetryLater(f"could not list messages: {error}", outcome_unknown=True) from error
            if response.status_code != 200:
                raise _error_from(response)
            page = response.json()
            for item in page.get("messages", []):
                created = _parse_date(item.get("date_created"))
                if created is not None and created < sent_after:
                    continue
                messages.append(ProviderMessage(item["sid"], item.get("to", ""), item.get("body", ""), item.get("status", ""), created))
            if not page.get("next_page_uri"):
                break
            url, params = self.base_url + page["next_page_uri"], None
        return messages
