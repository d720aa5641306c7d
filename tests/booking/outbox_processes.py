"""The outbox worker as a real process, for the tests that kill it or run two:
its environment against the test database and the SMS stub, a warm start that
waits with Django set up, and what the tests count and check afterwards."""

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

from booking.models import Reminder
from tests.live_server import database_url

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
STARTUP_SECONDS = 20
DONE = (Reminder.Status.SENT, Reminder.Status.DELIVERED)

# Django set up ahead, then `manage.py outbox_worker ...` when told on stdin:
# a kill costs no start-up (1.5 s), so kills can come often at any speed.
WARM_START = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
import booking.management.commands.outbox_worker
from django.core import checks
checks.run_checks()  # the command runs them again, by then in 10 ms instead of 300
sys.stdin.readline()
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


def worker_env(stub, **overrides) -> dict:
    env = {
        **os.environ,  # REDIS_URL and the like pass through
        "DATABASE_URL": database_url(connection.settings_dict),
        "SMS_API_BASE": stub.base_url,
        "OUTBOX_LEASE_SECONDS": "2",  # abandoned claims are taken over quickly
        "OUTBOX_RETRY_BASE_SECONDS": "1",
        "OUTBOX_RETRY_MAX_SECONDS": "3",
        # Every kill costs the messages in hand an attempt; giving up is another test's subject.
        "OUTBOX_MAX_ATTEMPTS": "50",
        "SMS_TIMEOUT_SECONDS": "2",
        "SMS_QUIET_HOURS": "00:00-00:00",  # an empty window: the test may run at night
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # status callbacks go nowhere, fast
        "PYTHONUNBUFFERED": "1",  # the "started" line shows at once
    }
    env.update(overrides)
    return env


class WorkerProcess:
    """One `manage.py outbox_worker` process, its output in a file. A warm one
    waits, Django set up, until go() lets it run the command."""

    def __init__(self, env: dict, output: Path, *options: str, warm: bool = False):
        self.output = output
        python = str(PYTHON if PYTHON.exists() else Path(sys.executable))
        arguments = ["outbox_worker", "--batch-size", "5", "--idle-sleep", "0.05", *options]
        command = [python, "-c", WARM_START, *arguments] if warm else [python, "manage.py", *arguments]
        with open(output, "w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE if warm else subprocess.DEVNULL, text=True,
            )
        self.name = f"{socket.gethostname()}:{self.process.pid}"

    def go(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.close()

    def wait_until_started(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while f"outbox worker {self.name} started" not in self.output.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"outbox worker did not start:\n{self.output.read_text()}")
            time.sleep(0.005)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        if self.process.stdin:
            self.process.stdin.close()  # only now: a standby reading EOF would start working

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 10 s; answers the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


def queue_numbered_reminders(count: int, *, recipients: int) -> list[Reminder]:
    now = timezone.now()
    return Reminder.objects.bulk_create(
        Reminder(
            channel=Reminder.Channel.SMS, purpose="day_before", source="test.event", source_id=n, source_version=None,
            recipient=f"+8491{n % recipients:07d}", body=f"TYT Phuc Thuan: nhac lich kham so {n:04d}.",
            due_at=now, next_attempt_at=now, stale_at=now + timedelta(hours=1),
        )
        for n in range(count)
    )


def open_count() -> int:
    return Reminder.objects.filter(status__in=Reminder.OPEN_STATUSES).count()


def wait_until_all_done(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while open_count():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def outbound(stub) -> list[dict]:
    return [m for m in stub.messages() if m["direction"] == "outbound-api"]


def logged_count(log_path: Path) -> int:
    """Messages the stub has accepted so far (its --log file, a line each)."""
    return log_path.read_bytes().count(b"\n") if log_path.exists() else 0


def assert_each_reminder_sent_exactly_once(reminders, messages):
    """Every body reached the provider once, and its row holds that message's id."""
    by_body = Counter(m["body"] for m in messages)
    expected = {r.body for r in reminders}
    twice = sorted(body for body, n in by_body.items() if n > 1)
    lost = sorted(expected - set(by_body))
    assert not twice, f"{len(twice)} sent more than once, e.g. {twice[:5]}"
    assert not lost, f"{len(lost)} never reached the provider, e.g. {lost[:5]}"
    assert set(by_body) == expected
    sid_of = {m["body"]: m["sid"] for m in messages}
    wrong = [(r.pk, r.status, r.provider_sid, sid_of[r.body]) for r in reminders
             if r.status not in DONE or r.provider_sid != sid_of[r.body]]
    assert not wrong, f"{len(wrong)} rows not sent or holding another id, e.g. {wrong[:5]}"
    sids = [r.provider_sid for r in reminders]
    assert len(set(sids)) == len(sids)
