"""A Twilio-compatible SMS provider for development and tests, run as its own
process: `python manage.py sms_stub` or `python -m booking.sms_stub`.

It answers the part of Twilio's Messages API that the gateway client uses,
walks each message through sent and delivered with signed status callbacks,
forwards replies typed on its inbox page (or posted to /stub/inbound) to the
app's inbound webhook, and misbehaves on request (POST /stub/faults) so tests
can drive the outbox through outages. Standard library only, and Django is not
set up here, so it stays a small independent process.
"""

import argparse
import base64
import binascii
import hmac
import html
import json
import logging
import math
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from booking.signatures import compute_signature
from config.log_redaction import RedactSecrets

log = logging.getLogger("booking.sms_stub")

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
MESSAGE_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_BODY_CHARS = 1600
MAX_REQUEST_BYTES = 1 << 20

# Twilio's default keywords, matched against the whole trimmed body.
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
OPT_IN_KEYWORDS = {"START", "YES", "UNSTOP"}

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")  # two septets each

FAULT_MODES = {"none", "error500", "rate_limit", "timeout"}
DELIVERY_ERRORS = {30003: "Unreachable destination handset", 30008: "Unknown error"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def count_segments(body: str) -> int:
    """GSM-7 fits 160 characters in one SMS, 153 per part when split; anything
    else (Vietnamese with its diacritics) is UCS-2: 70, then 67 per part."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        units, single, part = sum(2 if char in GSM7_EXTENSION else 1 for char in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


class ApiError(Exception):
    """An answer in Twilio's error shape."""

    def __init__(self, status: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def payload(self) -> dict:
        more_info = f"https://www.twilio.com/docs/errors/{self.code}"
        return {"code": self.code, "message": self.message, "more_info": more_info, "status": self.status}


@dataclass(frozen=True)
class StubSettings:
    account_sid: str = "AC00000000000000000000000000000000"
    auth_token: str = "stub-auth-token"
    sender: str = "+84900000000"
    inbound_url: str | None = None
    callback_delay: float = 0.2
    log_path: str | None = None


@dataclass
class Message:
    account_sid: str
    to: str
    from_: str
    body: str
    direction: str  # "outbound-api" or "inbound"
    status: str
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    sid: str = field(default_factory=lambda: "SM" + secrets.token_hex(16))
    created: datetime = field(default_factory=utcnow)
    updated: datetime | None = None
    sent: datetime | None = None
    error_code: int | None = None
    history: list = field(default_factory=list)

    def __post_init__(self):
        self.updated = self.updated or self.created
        self.history.append({"status": self.status, "at": self.created.isoformat()})

    def move_to(self, status: str, error_code: int | None = None) -> None:
        self.status, self.error_code, self.updated = status, error_code, utcnow()
        if status == "sent":
            self.sent = self.updated
        self.history.append({"status": status, "at": self.updated.isoformat()})

    def resource(self) -> dict:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "sid": self.sid, "account_sid": self.account_sid, "api_version": API_VERSION,
            "to": self.to, "from": self.from_, "messaging_service_sid": self.messaging_service_sid,
            "body": self.body, "status": self.status, "direction": self.direction,
            "num_segments": str(count_segments(self.body)), "num_media": "0",
            "date_created": format_datetime(self.created), "date_updated": format_datetime(self.updated),
            "date_sent": format_datetime(self.sent) if self.sent else None,
            "error_code": self.error_code, "error_message": DELIVERY_ERRORS.get(self.error_code),
            "price": None, "price_unit": "USD", "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        }

    def record(self) -> dict:
        """What /stub/messages shows: the resource and how the status moved."""
        return {**self.resource(), "status_callback": self.status_callback, "history": list(self.history)}

    def callback_params(self) -> dict:
        params = {
            "MessageSid": self.sid, "SmsSid": self.sid, "AccountSid": self.account_sid,
            "From": self.from_, "To": self.to, "MessageStatus": self.status, "SmsStatus": self.status,
            "ApiVersion": API_VERSION,
        }
        if self.messaging_service_sid:
            params["MessagingServiceSid"] = self.messaging_service_sid
        if self.error_code:
            params["ErrorCode"] = str(self.error_code)
        return params


@dataclass(frozen=True)
class Faults:
    mode: str = "none"
    count: int | None = None  # how many more Messages POSTs; None: until cleared
    retry_after: float = 1
    delay: float = 5
    undeliverable: frozenset = frozenset()
    failing: frozenset = frozenset()

    def updated(self, config: dict) -> "Faults":
        """The faults after a POST /stub/faults; keys not given stay as they are."""
        changes = {}
        if "mode" in config:
            if config["mode"] not in FAULT_MODES:
                raise ValueError(f"mode must be one of {sorted(FAULT_MODES)}")
            changes["mode"], changes["count"] = config["mode"], config.get("count")
            count = changes["count"]
            if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
                raise ValueError("count must be a positive whole number or null")
        for key in ("retry_after", "delay"):
            if key in config:
                if not isinstance(config[key], (int, float)) or config[key] < 0:
                    raise ValueError(f"{key} must be a number of seconds")
                changes[key] = config[key]
        for key in ("undeliverable", "failing"):
            if key in config:
                if not isinstance(config[key], list) or not all(isinstance(n, str) for n in config[key]):
                    raise ValueError(f"{key} must be a list of phone numbers")
                changes[key] = frozenset(config[key])
        return replace(self, **changes)

    def taken(self) -> "Faults":
        """The faults after one affected request."""
        if self.count is None:
            return self
        left = self.count - 1
        return replace(self, count=left) if left > 0 else replace(self, mode="none", count=None)

    def delivery_steps(self, to: str) -> list[tuple[str, int | None]]:
        if to in self.failing:
            return [("failed", 30008)]
        if to in self.undeliverable:
            return [("sent", None), ("undelivered", 30003)]
        return [("sent", None), ("delivered", None)]

    def as_json(self) -> dict:
        return {"mode": self.mode, "count": self.count, "retry_after": self.retry_after, "delay": self.delay,
                "undeliverable": sorted(self.undeliverable), "failing": sorted(self.failing)}


class Store:
    """Messages, opt-outs and faults, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.messages: dict[str, Message] = {}  # in order of creation
            self.opted_out: set[str] = set()
            self.faults = Faults()

    def take_fault(self) -> Faults:
        with self.lock:
            current = self.faults
            if current.mode != "none":
                self.faults = current.taken()
            return current


class Courier:
    """Posts form-encoded, signed requests to the app, as Twilio does."""

    def __init__(self, auth_token: str, timeout: float = 10):
        self.auth_token, self.timeout = auth_token, timeout
        # Only loopback traffic: never through a proxy from the environment.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, url: str, params: dict, idempotency_token: str | None = None) -> dict:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1 (sms stub)",
            "X-Twilio-Signature": compute_signature(self.auth_token, url, params),
            "I-Twilio-Idempotency-Token": idempotency_token or secrets.token_hex(16),
        }
        request = urllib.request.Request(url, urllib.parse.urlencode(params).encode(), headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return {"url": url, "status": response.status, "body": response.read().decode("utf-8", "replace")}
        except urllib.error.HTTPError as error:
            with error:
                answer = {"url": url, "status": error.code, "body": error.read().decode("utf-8", "replace")}
            log.warning("%s answered %s to %s", url, error.code, params.get("MessageStatus") or "an inbound message")
            return answer
        except (OSError, ValueError) as error:
            log.warning("could not post to %s: %s", url, error)
            return {"url": url, "status": None, "body": "", "error": str(error)}


def _one(params: dict, key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value).strip()


class Provider:
    """What the stub does, apart from speaking HTTP."""

    def __init__(self, settings: StubSettings):
        self.settings = settings
        self.store = Store()
        self.courier = Courier(settings.auth_token)
        self.log_lock = threading.Lock()

    def authenticate(self, account: str, credentials: tuple[str, str] | None) -> None:
        expected = (self.settings.account_sid, self.settings.auth_token)
        given = credentials or ("", "")
        same = all(hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, expected))
        if not same or account != self.settings.account_sid:
            raise ApiError(401, 20003, "Authenticate")

    def send(self, params: dict) -> tuple[dict, float]:
        """Accept an outbound message; answer its resource and how long to stall."""
        faults = self.store.take_fault()
        if faults.mode == "error500":
            raise ApiError(500, 20500, "Internal Server Error")
        if faults.mode == "rate_limit":
            seconds = faults.retry_after
            retry_after = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
            raise ApiError(429, 20429, "Too Many Requests", {"Retry-After": retry_after})
        message = self._validated_outbound(params)
        with self.store.lock:
            self.store.messages[message.sid] = message
            resource = message.resource()
            steps = self.store.faults.delivery_steps(message.to)
        self._append_to_log(resource)
        threading.Thread(target=self._deliver, args=(message, steps), daemon=True).start()
        return resource, faults.delay if faults.mode == "timeout" else 0.0

    def _validated_outbound(self, params: dict) -> Message:
        to, sender, service = _one(params, "To"), _one(params, "From"), _one(params, "MessagingServiceSid")
        body, callback = params.get("Body") or "", _one(params, "StatusCallback")
        if not to:
            raise ApiError(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            raise ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            raise ApiError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
        if not body.strip():
            raise ApiError(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            raise ApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if callback and urllib.parse.urlsplit(callback).scheme not in ("http", "https"):
            raise ApiError(400, 21609, "The StatusCallback URL is not a valid URL.")
        with self.store.lock:
            opted_out = to in self.store.opted_out
        if opted_out:
            raise ApiError(400, 21610, "Attempt to send to unsubscribed recipient")
        return Message(self.settings.account_sid, to, sender or self.settings.sender, body, "outbound-api", "queued",
                       messaging_service_sid=service or None, status_callback=callback or None)

    def _append_to_log(self, resource: dict) -> None:
        if not self.settings.log_path:
            return
        with self.log_lock, open(self.settings.log_path, "a", encoding="utf-8") as file:
            file.write(json.dumps(resource, ensure_ascii=False) + "\n")
            file.flush()

    def _deliver(self, message: Message, steps: list) -> None:
        """Runs in its own thread: the status moves on, the app hears of each step."""
        for status, error_code in steps:
            time.sleep(self.settings.callback_delay)
            with self.store.lock:
                if self.store.messages.get(message.sid) is not message:
                    return  # The store was reset meanwhile.
                message.move_to(status, error_code)
                params = message.callback_params()
            if message.status_callback:
                self.courier.post(message.status_callback, params)

    def get(self, sid: str) -> dict:
        with self.store.lock:
            message = self.store.messages.get(sid)
            if message is None:
                raise ApiError(404, 20404, f"The requested resource /Messages/{sid}.json was not found")
            return message.resource()

    def page(self, path: str, query: dict[str, list[str]]) -> dict:
        """Twilio's list: newest first, filtered, one page at a time."""
        filters = {key: query[key][0] for key in ("To", "From", "DateSent", "DateSent>", "DateSent<") if key in query}
        try:
            days = {key: date.fromisoformat(value) for key, value in filters.items() if key.startswith("DateSent")}
            size = min(max(int(query.get("PageSize", ["50"])[0]), 1), 1000)
            number = max(int(query.get("Page", ["0"])[0]), 0)
        except ValueError as error:
            raise ApiError(400, 20001, f"Invalid parameter: {error}") from error

        def wanted(message: Message) -> bool:
            day = message.created.date()  # Twilio filters by the UTC day
            return (
                filters.get("To", message.to) == message.to
                and filters.get("From", message.from_) == message.from_
                and days.get("DateSent", day) == day
                and days.get("DateSent>", day) <= day
                and days.get("DateSent<", day) >= day
            )

        with self.store.lock:
            found = [m.resource() for m in reversed(self.store.messages.values()) if wanted(m)]
        chosen = found[number * size:(number + 1) * size]

        def uri(page_number: int) -> str:
            return path + "?" + urllib.parse.urlencode({**filters, "PageSize": size, "Page": page_number})

        more = len(found) > (number + 1) * size
        return {
            "messages": chosen, "page": number, "page_size": size, "start": number * size,
            "end": number * size + max(len(chosen) - 1, 0), "uri": uri(number), "first_page_uri": uri(0),
            "next_page_uri": uri(number + 1) if more else None,
            "previous_page_uri": uri(number - 1) if number > 0 else None,
        }

    def receive(self, params: dict) -> dict:
        """A reply from a phone: record it, honour STOP and START, post it to the app."""
        sender, body = _one(params, "From"), str(params.get("Body") or "")
        if not E164.match(sender):
            raise ApiError(400, 21211, f"The 'From' number {sender} is not a valid phone number.")
        message = Message(self.settings.account_sid, _one(params, "To") or self.settings.sender, sender, body,
                          "inbound", "received")
        keyword = body.strip().upper()
        with self.store.lock:
            self.store.messages[message.sid] = message
            if keyword in OPT_OUT_KEYWORDS:
                self.store.opted_out.add(sender)
            elif keyword in OPT_IN_KEYWORDS:
                self.store.opted_out.discard(sender)
        webhook = {
            "MessageSid": message.sid, "SmsSid": message.sid, "SmsMessageSid": message.sid,
            "AccountSid": message.account_sid, "From": message.from_, "To": message.to, "Body": body,
            "NumMedia": "0", "NumSegments": str(count_segments(body)), "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        duplicate = str(params.get("duplicate", "")).lower() in ("true", "1", "yes", "on")
        token = secrets.token_hex(16)  # Twilio repeats it when it posts the same message again
        url = self.settings.inbound_url
        posts = [self.courier.post(url, webhook, token) for _ in range(2 if duplicate else 1)] if url else []
        return {"sid": message.sid, "posts": posts}

    def set_faults(self, config: dict) -> dict:
        with self.store.lock:
            try:
                self.store.faults = self.store.faults.updated(config)
            except ValueError as error:
                raise ApiError(400, 20001, str(error)) from error
            return self.store.faults.as_json()

    def faults(self) -> dict:
        with self.store.lock:
            return self.store.faults.as_json()

    def records(self) -> list[dict]:
        with self.store.lock:
            return [message.record() for message in self.store.messages.values()]


INBOX_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>SMS stub</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }}
td.body {{ white-space: pre-wrap; max-width: 40rem; }}
</style></head><body>
<h1>SMS stub</h1>
<form method="post" action="/stub/inbound" accept-charset="utf-8">
<input type="hidden" name="next" value="/">
<label>From <input name="From" value="+84912345678" required></label>
<label>To <input name="To" value="{sender}"></label>
<label>Body <input name="Body" size="40" required></label>
<button>Reply as this phone</button>
</form>
<p>{count} messages, newest first. <a href="/">Refresh</a></p>
<table><thead><tr><th>Time (UTC)</th><th>Direction</th><th>To</th><th>From</th><th>Body</th><th>Status</th>
<th>Segments</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def render_inbox(records: list[dict], sender: str) -> str:
    rows = []
    for record in reversed(records):
        cells = [record["date_created"], record["direction"], record["to"], record["from"]]
        row = "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
        row += f'<td class="body">{html.escape(record["body"])}</td>'
        row += f'<td>{html.escape(record["status"])}</td><td>{html.escape(record["num_segments"])}</td>'
        rows.append(f"<tr>{row}</tr>")
    return INBOX_PAGE.format(sender=html.escape(sender), count=len(records), rows="\n".join(rows))


class Handler(BaseHTTPRequestHandler):
    # Headers and body go out as two writes; without this each answer waits ~40 ms
    # for Nagle's algorithm and the client's delayed acknowledgement.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "SmsStub/1.0"

    # (method, path pattern, name of the method below)
    routes = [
        ("GET", re.compile(r"^/$"), "inbox"),
        ("POST", MESSAGES_PATH, "create_message"),
        ("GET", MESSAGES_PATH, "list_messages"),
        ("GET", MESSAGE_PATH, "fetch_message"),
        ("POST", re.compile(r"^/stub/inbound/?$"), "inbound"),
        ("GET", re.compile(r"^/stub/faults/?$"), "show_faults"),
        ("POST", re.compile(r"^/stub/faults/?$"), "set_faults"),
        ("GET", re.compile(r"^/stub/messages/?$"), "all_messages"),
        ("POST", re.compile(r"^/stub/reset/?$"), "reset"),
    ]

    @property
    def provider(self) -> Provider:
        return self.server.provider

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        try:
            self.params = self.read_params()
            self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            matches = [(m, pattern.match(url.path), name) for m, pattern, name in self.routes]
            matches = [(m, match, name) for m, match, name in matches if match]
            for route_method, match, name in matches:
                if route_method == method:
                    return getattr(self, name)(url.path, **match.groupdict())
            if matches:
                raise ApiError(405, 20004, "Method not allowed")
            raise ApiError(404, 20404, f"The requested resource {url.path} was not found")
        except ApiError as error:
            self.send_json(error.status, error.payload(), error.headers)
        except Exception:
            log.exception("failed on %s %s", method, self.path)
            self.send_json(500, ApiError(500, 20500, "Internal Server Error").payload())

    def read_params(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, 20001, "Bad Content-Length") from None
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise ApiError(413, 20001, "Request too large")
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if self.headers.get_content_type() == "application/json":
            try:
                data = json.loads(raw or "{}")
            except ValueError:
                raise ApiError(400, 20001, "Body is not valid JSON") from None
            if not isinstance(data, dict):
                raise ApiError(400, 20001, "Body must be a JSON object")
            return data
        return {key: values[0] for key, values in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def credentials(self) -> tuple[str, str] | None:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password

    def inbox(self, path):
        page = render_inbox(self.provider.records(), self.provider.settings.sender)
        self.send_body(200, page.encode(), "text/html; charset=utf-8")

    def create_message(self, path, account):
        self.provider.authenticate(account, self.credentials())
        resource, stall = self.provider.send(self.params)
        if stall:
            # Accepted and stored, but the answer comes too late for the client.
            time.sleep(stall)
        self.send_json(201, resource)

    def list_messages(self, path, account):
        self.provider.authenticate(account, self.credentials())
        self.send_json(200, self.provider.page(path, self.query))

    def fetch_message(self, path, account, sid):
        self.provider.authenticate(account, self.credentials())
        self.send_json(200, self.provider.get(sid))

    def inbound(self, path):
        result = self.provider.receive(self.params)
        if self.params.get("next") == "/":  # the inbox page's form
            return self.send_body(303, b"", "text/plain", {"Location": "/"})
        self.send_json(200, result)

    def show_faults(self, path):
        self.send_json(200, self.provider.faults())

    def set_faults(self, path):
        self.send_json(200, self.provider.set_faults(self.params))

    def all_messages(self, path):
        self.send_json(200, self.provider.records())

    def reset(self, path):
        self.provider.store.reset()
        self.send_json(200, {"reset": True})

    def send_json(self, status: int, data, headers: dict | None = None) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_body(status, body, "application/json; charset=utf-8", headers)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped waiting (the timeout fault): nobody to answer.
            self.close_connection = True

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, provider: Provider, host: str = "127.0.0.1", port: int = 0):
        self.provider = provider
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def announce_on_stdout(line: str) -> None:
    print(line, flush=True)


def serve(server: StubServer, announce=announce_on_stdout) -> None:
    """Serve until SIGTERM or SIGINT, then close the socket. Main thread only."""

    def stop(signum, frame):
        log.info("SMS stub stopping (signal %s)", signum)
        # shutdown() waits for serve_forever() to return: not from this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    announce(f"SMS stub listening on {server.url}")
    try:
        server.serve_forever(poll_interval=0.1)  # how soon a signal takes effect
    finally:
        server.server_close()
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: list[str] | None = None) -> int:
    defaults = StubSettings()
    parser = argparse.ArgumentParser(prog="python -m booking.sms_stub", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025, help="0 picks a free port")
    parser.add_argument("--account-sid", default=defaults.account_sid)
    parser.add_argument("--auth-token", default=defaults.auth_token)
    parser.add_argument("--sender", default=defaults.sender, help="our number: the To of inbound replies")
    parser.add_argument("--inbound-url", default="http://127.0.0.1:8000/webhooks/sms/inbound/")
    parser.add_argument("--callback-delay", type=float, default=defaults.callback_delay, help="seconds between statuses")
    parser.add_argument("--log", dest="log_path", help="append every accepted outbound message here, one JSON line each")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Its inbox (and --log file) holds the numbers; its console lines do not.
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
    settings = StubSettings(options.account_sid, options.auth_token, options.sender, options.inbound_url,
                            options.callback_delay, options.log_path)
    try:
        server = StubServer(Provider(settings), options.host, options.port)
    except OSError as error:
        parser.exit(1, f"cannot listen on {options.host}:{options.port}: {error}\n")
    serve(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
