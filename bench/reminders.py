"""SMS reminder throughput of the outbox worker, and the cost of invites, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reminders.py

Runs in a throwaway database (bench_reminders_<name>: created, migrated, dropped
at the end), against the stub provider as its own process (manage.py sms_stub on
a free port of 127.0.0.1); the database DATABASE_URL names is never written to.
Measures:

- the stub's raw acceptance rate: SmsGateway.send called from one thread, the
  most one worker could reach, so the worker figures read as a ratio of it;
- messages handed to the provider per second by 1 and by 4 `outbox_worker`
  processes, for 10,000 due SMS reminders: from the moment they fall due (the
  workers already started and polling) to the last one marked sent;
- booking.ical.build_invite for 1,000 consultation-like events.

Worker runs are repeated up to 3 times while they fit in about 10 minutes;
figures are medians.
"""

import logging
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
# bench/booking.py is named like the booking app, so this folder must not shadow the app.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.ical import CalendarEvent, Person, build_invite  # noqa: E402
from booking.models import Reminder  # noqa: E402
from booking.sms import SmsGateway  # noqa: E402

REMINDERS = 10_000
WORKER_COUNTS = (1, 4)
MAX_REPEATS = 3
BUDGET_SECONDS = 600  # for all worker runs; the first of each configuration always runs
RUN_SECONDS = 900  # a single run gives up after this
POLL_SECONDS = 0.2
BASELINE_SENDS = 1_000
INVITES = 1_000
INVITE_RUNS = 5
STARTUP_SECONDS = 20
LISTENING = "SMS stub listening on "
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


class Stub:
    """`manage.py sms_stub` on a free port; its status callbacks are slowed down
    (--callback-delay 5) and go nowhere, as the workers name a closed port."""

    def __init__(self, stderr_path: Path):
        command = [PYTHON, "manage.py", "sms_stub", "--port", "0", "--callback-delay", "5"]
        with open(stderr_path, "w") as stderr:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            line = ""
        if not line.startswith(LISTENING):
            self.stop()
            raise RuntimeError(f"sms_stub did not start: {line!r}\n{stderr_path.read_text()}")
        self.base_url = line[len(LISTENING):].strip()
        self.gateway = SmsGateway(base_url=self.base_url)

    def reset(self):
        self.gateway.client.post(f"{self.base_url}/stub/reset").raise_for_status()

    def outbound_bodies(self) -> list[str]:
        response = self.gateway.client.get(f"{self.base_url}/stub/messages", timeout=60)
        response.raise_for_status()
        return [m["body"] for m in response.json() if m["direction"] == "outbound-api"]

    def stop(self):
        if hasattr(self, "gateway"):
            self.gateway.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process.stdout.close()


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_workers(count: int, stub: Stub, folder: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SMS_API_BASE": stub.base_url,
        "SMS_QUIET_HOURS": "00:00-00:00",  # no quiet window: the bench may run at night
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # status callbacks fail at once instead of reaching a dev server
        "PYTHONUNBUFFERED": "1",
    }
    workers = []
    for n in range(count):
        with open(folder / f"worker-{n}.out", "w") as out:
            workers.append(subprocess.Popen(
                [PYTHON, "manage.py", "outbox_worker", "--idle-sleep", "0.05"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            ))
    deadline = time.monotonic() + STARTUP_SECONDS
    for n, worker in enumerate(workers):
        output, started = folder / f"worker-{n}.out", f"outbox worker {socket.gethostname()}:{worker.pid} started"
        while started not in output.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"outbox worker did not start:\n{output.read_text()}")
            time.sleep(0.01)
    return workers


def stop_workers(workers: list[subprocess.Popen]):
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def queue_reminders(count: int):
    """Due in a day: the workers start polling first, then they all fall due at once."""
    now = timezone.now()
    Reminder.objects.bulk_create(
        (
            Reminder(
                channel=Reminder.Channel.SMS, purpose="day_before", source="bench.event", source_id=n,
                source_version=None, recipient=f"+8491{n % 1000:07d}",
                body=f"TYT Phuc Thuan: nhac lich kham tu xa so {n:05d}, 09:00 ngay mai.",
                due_at=now, next_attempt_at=now + timedelta(days=1), stale_at=now + timedelta(days=1),
            )
            for n in range(count)
        ),
        batch_size=2000,
    )


def worker_run(count: int, stub: Stub, folder: Path) -> float:
    """Messages sent per second by `count` workers, from due to the last one sent."""
    Reminder.objects.all().delete()
    stub.reset()
    queue_reminders(REMINDERS)
    workers = []
    try:
        workers = start_workers(count, stub, folder)
        Reminder.objects.update(next_attempt_at=timezone.now())
        due = timezone.now()
        deadline = time.monotonic() + RUN_SECONDS
        while Reminder.objects.filter(status__in=Reminder.OPEN_STATUSES).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} workers did not send {REMINDERS} reminders in {RUN_SECONDS} s")
            time.sleep(POLL_SECONDS)
    finally:
        stop_workers(workers)
    sent = Reminder.objects.filter(status__in=(Reminder.Status.SENT, Reminder.Status.DELIVERED))
    assert sent.count() == REMINDERS, dict(Reminder.objects.values_list("status").annotate(n=Count("pk")))
    bodies = stub.outbound_bodies()
    assert len(bodies) == len(set(bodies)) == REMINDERS, f"{len(bodies)} at the stub, {len(set(bodies))} distinct"
    last = max(sent.values_list("sent_at", flat=True))
    return REMINDERS / (last - due).total_seconds()


def baseline(stub: Stub) -> float:
    """SmsGateway.send from one thread straight to the stub, messages per second."""
    stub.reset()
    started = time.perf_counter()
    for n in range(BASELINE_SENDS):
        stub.gateway.send(to=f"+8491{n % 1000:07d}", body=f"baseline {n}", status_callback="http://127.0.0.1:9/")
    rate = BASELINE_SENDS / (time.perf_counter() - started)
    stub.reset()
    return rate


def invite_timings() -> list[float]:
    """ms to build 1,000 invites shaped like telecare.calendar_events.consultation_event's."""
    first = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    organizer = Person("Trạm Y tế xã Phúc Thuận", "noreply@telecare.example.vn")
    events = [
        CalendarEvent(
            uid=f"bench-{n}@telecare", sequence=n % 3, start=first + timedelta(minutes=20 * n),
            end=first + timedelta(minutes=20 * n + 20),
            summary=f"Khám từ xa: Hoàng Thị Hoa {n} (TYT Phúc Thuận)",
            description=f"Phòng khám trực tuyến: http://127.0.0.1:8000/room/{n}/\nChi tiết: http://127.0.0.1:8000/c/{n}/",
            location=f"Trạm Y tế xã Phúc Thuận · http://127.0.0.1:8000/room/{n}/",
            url=f"http://127.0.0.1:8000/room/{n}/", organizer=organizer,
            attendees=(Person("BS. Nguyễn Văn Minh", "minh@example.vn"),
                       Person("Trạm Y tế xã Phúc Thuận", "tyt@example.vn", partstat="ACCEPTED")),
            cancelled=n % 10 == 0,
        )
        for n in range(INVITES)
    ]
    build_invite(events[0])  # warm-up
    timings = []
    for _ in range(INVITE_RUNS):
        started = time.perf_counter()
        for event in events:
            build_invite(event)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(folder: Path):
    print(
        f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}, "
        f"database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs, "
        f"stub and workers as processes on 127.0.0.1\n",
        flush=True,
    )
    stub = Stub(folder / "sms_stub.stderr")
    try:
        base = baseline(stub)
        print(f"stub acceptance, SmsGateway.send x {BASELINE_SENDS} from 1 thread: {base:.0f} msg/s", flush=True)
        rates = {count: [] for count in WORKER_COUNTS}
        spent = 0.0
        for repeat in range(MAX_REPEATS):
            round_started = time.monotonic()
            for count in WORKER_COUNTS:
                rate = worker_run(count, stub, folder)
                rates[count].append(rate)
                print(f"  run {repeat + 1}, {count} worker(s): {rate:.0f} msg/s", flush=True)
            round_seconds = time.monotonic() - round_started
            spent += round_seconds
            if spent + round_seconds > BUDGET_SECONDS:
                break
    finally:
        stub.stop()
        Reminder.objects.all().delete()

    print(f"\n{REMINDERS:,} due SMS reminders, msg/s     median     min     max   x stub   runs")
    for count, samples in rates.items():
        median = statistics.median(samples)
        label = f"{count} outbox_worker process{'es' if count > 1 else ''}"
        spread = f"{min(samples):>7.0f} {max(samples):>7.0f}"
        print(f"  {label:<34}{median:>7.0f} {spread} {median / base:>8.2f} {len(samples):>6}")
    print(f"  {'stub alone (SmsGateway.send)':<34}{base:>7.0f} {'':>7} {'':>7} {1:>8.2f} {1:>6}")

    timings = invite_timings()
    print(f"\nbuild_invite x {INVITES:,}, ms              median     min     max   ({INVITE_RUNS} runs)")
    print(f"  {'per 1,000 invites':<34}{statistics.median(timings):>7.0f} {min(timings):>7.0f} {max(timings):>7.0f}")


if __name__ == "__main__":
    if connection.vendor != "postgresql":
        sys.exit(
            f"bench/reminders.py measures workers sharing PostgreSQL (row locks, SKIP LOCKED), not "
            f"{connection.vendor}: run it with DATABASE_URL=postgres://..."
        )
    real_name = connection.settings_dict["NAME"]
    # Its own name: bench/booking.py (bench_<name>) or a test run may be going on at the same time.
    connection.settings_dict["TEST"]["NAME"] = f"bench_reminders_{real_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with TemporaryDirectory(prefix="bench-reminders-") as folder:
            main(Path(folder))
    finally:
        connection.creation.destroy_test_db(real_name, verbosity=0)
