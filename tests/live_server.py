"""What bin/up runs, as child processes on the pytest-django test database:
daphne (bin/serve), the SMS stub and the outbox worker, all on 127.0.0.1."""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.sms_stub_fixtures import SmsStubProcess, spawn_sms_stub

ARTIFACTS = settings.BASE_DIR / "artifacts"


def database_url(settings_dict) -> str:
    """The test database as a DATABASE_URL that config.settings understands."""
    name = settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(settings_dict["USER"] or "")
        if settings_dict["PASSWORD"]:
            user += ":" + quote(settings_dict["PASSWORD"], safe="")
        host = settings_dict["HOST"] or ""
        if host.startswith("/"):  # a Unix socket, as inside the browser tests' network namespace
            return f"postgres://{user}@{quote(host, safe='')}/{name}"
        return f"postgres://{user}@{host}:{settings_dict['PORT'] or 5432}/{name}"
    pytest.fail(f"e2e tests run on SQLite or PostgreSQL, not {connection.vendor}")


def session_cookie(user) -> str:
    """A logged-in session of this user, as the Cookie header a browser sends."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 20):
    # No proxy: a proxy from the environment must not see loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            opener.open(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # Any HTTP answer means the server is up.
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"daphne did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class LiveStack:
    base_url: str
    stub: SmsStubProcess
    mail_dir: Path


def stop(process: subprocess.Popen):
    """SIGTERM, as a deployment stops it; SIGKILL only if it is still there after 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def live_stack(django_db_setup, tmp_path_factory):
    """What bin/up runs, on the test database: daphne, the SMS stub and the
    outbox worker, each a child process, with mail going to a folder.

    One per test module, stopped after it: a worker left running would send
    (or drop, by the real clock) the messages of every later test that uses
    the database, frozen clock or not.

    Tests that use it need django_db(transaction=True): their rows must be
    committed for the other processes to see them."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    var_dir = tmp_path_factory.mktemp("e2e-var")
    ARTIFACTS.mkdir(exist_ok=True)
    stub = spawn_sms_stub(ARTIFACTS / "e2e-sms-stub.log", inbound_url=f"{base_url}/webhooks/sms/inbound/")
    env = {
        **os.environ, "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
        "PUBLIC_BASE_URL": base_url, "SMS_API_BASE": stub.base_url, "VAR_DIR": str(var_dir),
    }
    # The servers should behave as in production, with Django's async-safety check on.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = ARTIFACTS / "e2e-daphne.log"
    children = []
    try:
        with log.open("w") as out:
            children.append(subprocess.Popen(
                [str(settings.BASE_DIR / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            ))
        with (ARTIFACTS / "e2e-outbox-worker.log").open("w") as out:
            children.append(subprocess.Popen(
                [str(settings.BASE_DIR / ".venv/bin/python"), "manage.py", "outbox_worker", "--idle-sleep", "0.2"],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            ))
        wait_for_http(f"{base_url}/accounts/login/", children[0], log)
        yield LiveStack(base_url, stub, var_dir / "mail")
    finally:
        for child in children:
            stop(child)
        stub.stop()


@pytest.fixture(scope="module")
def live_daphne(live_stack):
    """Base URL of the daphne child process."""
    return live_stack.base_url
