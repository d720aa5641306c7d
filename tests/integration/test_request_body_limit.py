"""Request bodies past MAX_REQUEST_BODY_BYTES get 413 before they are buffered:
in daphne itself (config/daphne_body_limit.py), and in the ASGI middleware for
any other server (config/body_limit.py)."""

import inspect
import json
import os
import signal
import subprocess
import time

import daphne
import pytest
import twisted
from daphne.http_protocol import HTTPFactory, WebRequest
from django.conf import settings
from twisted.web import http

from config.body_limit import BodyLimit, body_limit
from tests.big_bodies import MiB, post_streamed, reset_peak, resident_kib, zeros
from tests.live_server import free_port, wait_for_http

HOST = "127.0.0.1"


# The daphne and twisted internals the hook relies on: these fail loudly if an upgrade moves them.
def test_pinned_versions_are_the_ones_the_hook_was_written_for():
    assert daphne.__version__ == "4.2.3"
    assert twisted.__version__ == "26.10.0"


def test_daphne_still_buffers_the_whole_body_into_the_applications_queue():
    # The reason for the hook: if this changes, the ASGI middleware may be enough.
    source = inspect.getsource(WebRequest.process)
    assert "chunk = self.content.read(buffer_size)" in source and "self.application_queue.put_nowait(payload)" in source
    assert "gotLength" not in WebRequest.__dict__ or WebRequest.gotLength.__module__ == "config.daphne_body_limit"
    assert "protocol.requestFactory = WebRequest" in inspect.getsource(HTTPFactory.buildProtocol)


def test_twisted_still_tells_the_request_the_length_before_reading_the_body():
    channel = http.HTTPChannel
    headers_done = inspect.getsource(channel.allHeadersReceived)
    assert headers_done.index("req.gotLength(self.length)") < headers_done.index("Expect")
    assert "self._path = request" in inspect.getsource(channel.lineReceived)
    decoders = inspect.getsource(channel._maybeChooseTransferDecoder)
    assert decoders.count("self.requests[-1].handleContentChunk") == 2  # identity and chunked bodies
    assert "self.content.write(data)" in inspect.getsource(http.Request.handleContentChunk)


# The real server
@pytest.fixture
def daphne_server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    log = tmp_path / "daphne.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(settings.BASE_DIR / "bin/serve"), "-b", HOST, "-p", str(port)], cwd=settings.BASE_DIR,
            env={**env, "VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://{HOST}:{port}/accounts/login/", server, log)
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_400_mib_post_gets_413_and_daphne_stays_small(daphne_server, framing):
    server, port = daphne_server
    total = 400 * MiB
    length = total if framing == "content-length" else None
    # Warm up: the first requests load the rest of Django.
    for _ in range(2):
        assert post_streamed(HOST, port, "/accounts/login/", zeros(1000), length=1000 if length else None)[0] == 403
    before = resident_kib(server.pid)
    reset_peak(server.pid)

    status, answer, sent = post_streamed(HOST, port, "/accounts/login/", zeros(total), length=length)

    grown_mb = (resident_kib(server.pid, "VmHWM") - before) / 1024
    assert status == 413, answer[:500]
    assert sent < 50 * MiB, "the server kept reading"
    assert grown_mb < 20, f"daphne grew by {grown_mb:.0f} MB"
    # Smaller bodies still reach the app (403: no CSRF token), also on the same server after a refusal.
    assert post_streamed(HOST, port, "/accounts/login/", zeros(100_000), length=100_000 if length else None)[0] == 403

    server.send_signal(signal.SIGTERM)
    started = time.monotonic()
    server.wait(timeout=10)
    assert time.monotonic() - started < 5


def test_the_api_gets_its_error_shape_and_a_declared_length_is_refused_unread(daphne_server):
    _server, port = daphne_server
    limit = settings.MAX_REQUEST_BODY_BYTES
    status, answer, sent = post_streamed(HOST, port, "/api/v1/patients/", zeros(limit + 1), length=limit + 1)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert status == 413 and b"application/json" in head.lower()
    assert json.loads(body)["code"] == "too_large"


# The ASGI middleware, for servers other than daphne
async def run(app, scope, messages):
    sent = []
    queue = list(messages)

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await BodyLimit(app)(scope, receive, send)
    return sent


def http_scope(path="/x/", length=None):
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    return {"type": "http", "path": path, "headers": headers}


async def echo_length(scope, receive, send):
    """Reads the body as Django does, then answers with its length."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def test_a_declared_length_over_the_limit_never_reaches_the_app(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    called = []

    async def app(scope, receive, send):
        called.append(scope)

    sent = await run(app, http_scope(length=1001), [])
    assert sent[0]["status"] == 413 and called == []


async def test_a_streamed_body_is_cut_off_as_it_passes_the_limit(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    chunks = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(10)]
    sent = await run(echo_length, http_scope(), chunks)
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    ok = await run(echo_length, http_scope(), chunks[:2] + [{"type": "http.request", "body": b"x" * 200}])
    assert ok[0]["status"] == 200 and ok[1]["body"] == b"1000"


async def test_a_path_prefix_can_have_its_own_limit(settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    settings.REQUEST_BODY_LIMITS = {"/uploads/": 5000, "/uploads/small/": 10}
    assert (body_limit("/uploads/a"), body_limit("/uploads/small/b"), body_limit("/other/")) == (5000, 10, 1000)
    sent = await run(echo_length, http_scope("/uploads/a", 4000), [{"type": "http.request", "body": b"x" * 4000}])
    assert sent[0]["status"] == 200
    assert (await run(echo_length, http_scope("/other/", 4000), []))[0]["status"] == 413


async def test_websockets_pass_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    await BodyLimit(app)({"type": "websocket", "path": "/ws/rooms/x/", "headers": []}, None, None)
    assert seen == ["websocket"]
