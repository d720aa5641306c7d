"""The stub SMS provider as a real process on 127.0.0.1 (manage.py sms_stub), and
a small receiver that stands in for the app's webhooks and records what the
stub posts to them."""

import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
STARTUP_SECONDS = 15
LISTENING = "SMS stub listening on "
# Nothing listens on the discard port: inbound posts of the shared stub fail
# fast instead of reaching whatever dev server runs on PUBLIC_BASE_URL.
NOWHERE = "http://127.0.0.1:9/webhooks/sms/inbound/"


class SmsStubProcess:
    """One `manage.py sms_stub` process and a client for its endpoints."""

    def __init__(self, process: subprocess.Popen, base_url: str, stderr_path: Path):
        self.process = process
        self.base_url = base_url
        self.stderr_path = stderr_path
        self.account_sid = settings.SMS_ACCOUNT_SID
        self.auth_token = settings.SMS_AUTH_TOKEN
        self.sender = settings.SMS_FROM
        self.http = httpx.Client(base_url=base_url, timeout=10, trust_env=False)

    def messages(self) -> list[dict]:
        """Every stored message, inbound and outbound, oldest first."""
        return self._ok(self.http.get("/stub/messages")).json()

    def message(self, sid: str) -> dict:
        return next(m for m in self.messages() if m["sid"] == sid)

    def faults(self, **config) -> dict:
        return self._ok(self.http.post("/stub/faults", json=config)).json()

    def reset(self) -> None:
        self._ok(self.http.post("/stub/reset"))

    def inbound(self, from_: str, body: str, duplicate: bool = False, to: str | None = None) -> dict:
        payload = {"From": from_, "Body": body, "duplicate": duplicate}
        if to:
            payload["To"] = to
        return self._ok(self.http.post("/stub/inbound", json=payload)).json()

    def wait_for_status(self, sid: str, status: str, timeout: float = 5) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.message(sid)
            if message["status"] == status:
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"{sid} still {message['status']!r} after {timeout} s, expected {status!r}")
            time.sleep(0.02)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 5 s; answers the exit code."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process.stdout.close()
        return self.process.returncode

    @staticmethod
    def _ok(response: httpx.Response) -> httpx.Response:
        response.raise_for_status()
        return response


def spawn_sms_stub(stderr_path: Path, *, inbound_url=None, callback_delay=0.05, log_path=None) -> SmsStubProcess:
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    command = [str(python), "manage.py", "sms_stub", "--port", "0", "--callback-delay", str(callback_delay)]
    if inbound_url:
        command += ["--inbound-url", inbound_url]
    if log_path:
        command += ["--log", str(log_path)]
    stderr = open(stderr_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    stderr.close()  # the child holds its own copy

    # readline() blocks; a reader thread keeps the wait for the first line bounded.
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=STARTUP_SECONDS)
    except queue.Empty:
        line = ""
    if not line.startswith(LISTENING):
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"sms_stub did not start: {line!r}\n{stderr_path.read_text()}")
    return SmsStubProcess(process, line[len(LISTENING):].strip(), stderr_path)


@pytest.fixture
def start_sms_stub(tmp_path):
    """A factory for stubs of one's own: start_sms_stub(inbound_url=..., log_path=...)."""
    started = []

    def start(**options) -> SmsStubProcess:
        stub = spawn_sms_stub(tmp_path / f"sms_stub-{len(started)}.stderr", **options)
        started.append(stub)
        return stub

    yield start
    for stub in started:
        stub.stop()


@pytest.fixture(scope="session")
def shared_sms_stub(tmp_path_factory):
    stub = spawn_sms_stub(tmp_path_factory.mktemp("sms_stub") / "stderr", inbound_url=NOWHERE)
    yield stub
    stub.stop()


@pytest.fixture
def sms_stub(shared_sms_stub):
    """One stub process for the session, emptied before each test (messages,
    faults, opt-outs). Its inbound posts go nowhere; tests that check them
    start their own with start_sms_stub(inbound_url=callback_receiver.url(...))."""
    shared_sms_stub.reset()
    return shared_sms_stub


@dataclass
class ReceivedPost:
    path: str
    headers: dict  # names lower-cased
    pairs: list  # the form's (name, value) pairs, in order

    @property
    def params(self) -> dict:
        return dict(self.pairs)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class CallbackReceiver:
    """Stands in for the app's webhooks: records every POST and answers 200."""

    def __init__(self):
        self.posts: list[ReceivedPost] = []
        self.changed = threading.Condition()
        self.answer = (200, "text/xml", "<Response></Response>")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                post = ReceivedPost(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, parse_qsl(raw, keep_blank_values=True)
                )
                with receiver.changed:
                    receiver.posts.append(post)
                    receiver.changed.notify_all()
                status, content_type, body = receiver.answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format, *args):
                pass

        return Handler

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, count: int, path: str | None = None, timeout: float = 5) -> list[ReceivedPost]:
        """The first `count` posts (to `path`, if given), waiting at most `timeout`."""

        def matching():
            return [p for p in self.posts if path is None or p.path == path]

        with self.changed:
            if not self.changed.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise AssertionError(f"{len(matching())} posts after {timeout} s, expected {count}: {matching()}")
            return matching()[:count]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_receiver():
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()
