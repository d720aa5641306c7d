"""The outbox worker killed with SIGKILL at random moments, over and over, as a
real process against the test database and the SMS stub process: every message
still reaches the provider exactly once (booking.worker, "Crash safety")."""

import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import Reminder
from tests.live_server import database_url

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
STARTUP_SECONDS = 20
DONE = (Reminder.Status.SENT, Reminder.Status.DELIVERED)

REMINDERS = 500
RECIPIENTS = 25  # shared numbers: reconciling must tell messages apart by body
MIN_KILLS = 15
# A worker is killed once the stub has taken 0 to 40 more messages from it, a
# further 0 to 30 ms later (so anywhere in claim, send, record), or after 5 s.
KILL_AFTER_MESSAGES = (0, 40)
KILL_JITTER_SECONDS = (0, 0.03)
KILL_AT_THE_LATEST = 5
KILLING_SECONDS = 120
FINISHING_SECONDS = 60

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


def stored_at(message: dict) -> datetime:
    """When the stub stored it, to the microsecond (its first history entry)."""
    return datetime.fromisoformat(message["history"][0]["at"])


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_at_random_moments_sends_every_reminder_exactly_once(start_sms_stub, tmp_path):
    seed = int(os.environ.get("OUTBOX_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"OUTBOX_CRASH_SEED={seed} picks the same kills again (timing still varies)")
    rng = random.Random(seed)
    reminders = queue_numbered_reminders(REMINDERS, recipients=RECIPIENTS)
    log_path = tmp_path / "outbound.jsonl"
    stub = start_sms_stub(log_path=log_path)
    env = worker_env(stub)

    kills = kills_with_work_left = 0
    timeouts_set = timeouts_taken = 0
    started = time.monotonic()
    worker = WorkerProcess(env, tmp_path / "worker-0.out", warm=True)
    spawned = [worker]
    try:
        while time.monotonic() - started < KILLING_SECONDS and (kills < MIN_KILLS or open_count()):
            if kills == 4:
                # Stored at the provider, answered after the client gave up: only reconciling avoids a second copy.
                timeouts_set = 2
                stub.faults(mode="timeout", count=timeouts_set, delay=3)
            elif kills == 8:
                faults = stub.faults()  # no change: the current state
                timeouts_taken = timeouts_set - (faults["count"] if faults["mode"] == "timeout" else 0)
                stub.faults(mode="error500", count=3)  # refused: reconciling finds nothing, then sends
            until = logged_count(log_path) + rng.randint(*KILL_AFTER_MESSAGES)
            worker.go()
            standby = WorkerProcess(env, tmp_path / f"worker-{kills + 1}.out", warm=True)
            spawned.append(standby)
            worker.wait_until_started()
            latest = time.monotonic() + KILL_AT_THE_LATEST
            while logged_count(log_path) < until and time.monotonic() < latest:
                time.sleep(0.002)
            time.sleep(rng.uniform(*KILL_JITTER_SECONDS))
            worker.kill()
            kills += 1
            kills_with_work_left += bool(open_count())
            worker = standby
    finally:
        for process in spawned:
            process.kill()
    killing_seconds = time.monotonic() - started
    stub.faults(mode="none")

    # A last worker, never killed, finishes what the kills left behind.
    last = WorkerProcess(env, tmp_path / "worker-last.out")
    try:
        last.wait_until_started()
        finished = wait_until_all_done(FINISHING_SECONDS)
    finally:
        last.stop()
    tail = last.output.read_text()[-3000:]
    assert finished, f"{open_count()} still open {FINISHING_SECONDS} s after the last kill\n{tail}"

    reminders = list(Reminder.objects.order_by("pk"))
    messages = outbound(stub)
    assert_each_reminder_sent_exactly_once(reminders, messages)
    assert logged_count(log_path) == len(messages) == REMINDERS

    # Adopted: the provider had the message before the claim that recorded it,
    # so an earlier attempt sent it, then died or timed out before knowing.
    when_stored = {m["sid"]: stored_at(m) for m in messages}
    adopted = [r for r in reminders if when_stored[r.provider_sid] < r.claimed_at]
    retried = [r for r in reminders if r.attempts > 1]
    print(
        f"{kills} kills ({kills_with_work_left} with work left) in {killing_seconds:.1f} s; "
        f"{len(retried)} reminders took more than one attempt (at most {max(r.attempts for r in reminders)}), "
        f"{len(adopted)} were found at the provider and adopted instead of sent again; "
        f"{timeouts_taken} time-outs injected"
    )
    assert kills >= MIN_KILLS
    assert not any(r.needs_reconcile for r in reminders)
    # Each time-out left a stored message that its worker never heard about.
    assert len(adopted) >= timeouts_taken
