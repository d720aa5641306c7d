"""A real daphne server on the pytest-django test database, and Debian's
Chromium driven by Playwright, everything on 127.0.0.1."""

import os
import socket
import subprocess
import time
from dataclasses import dataclass
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.sms_stub_fixtures import SmsStubProcess, spawn_sms_stub

HERE = Path(__file__).resolve().parent
ARTIFACTS = settings.BASE_DIR / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


def pytest_collection_modifyitems(items):
    # This hook sees every collected test, not only those below this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop marked as running in this thread,
    so Django would refuse the ORM calls of test bodies and of the database flush.
    Scoped to this package so the rest of the suite keeps Django's check."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def database_url(settings_dict) -> str:
    """The test database as a DATABASE_URL that config.settings understands."""
    name = settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(settings_dict["USER"] or "")
        if settings_dict["PASSWORD"]:
            user += ":" + quote(settings_dict["PASSWORD"], safe="")
        return f"postgres://{user}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{name}"
    pytest.fail(f"e2e tests run on SQLite or PostgreSQL, not {connection.vendor}")


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
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="package")
def live_stack(django_db_setup, tmp_path_factory):
    """What bin/up runs, on the test database: daphne, the SMS stub and the
    outbox worker, each a child process, with mail going to a folder.

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
                [str(settings.BASE_DIR / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
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


@pytest.fixture(scope="package")
def live_daphne(live_stack):
    """Base URL of the daphne child process."""
    return live_stack.base_url


@pytest.fixture(scope="package")
def browser(allow_orm_beside_playwright):
    """Debian's Chromium (Playwright cannot download its own here). Package scope:
    once Playwright stops, no event loop is left running for the rest of the suite."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Opens a page in a fresh context (its own cookies: one user each), closed after the test."""
    contexts = []

    def open_page():
        # Vietnamese, as the pilot's users; fail in seconds rather than Playwright's 30 s.
        context = browser.new_context(locale="vi-VN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
