"""The outbox worker killed with SIGKILL at random moments, over and over, as a
real process against the test database and the SMS stub process: every message
still reaches the provider exactly once (booking.worker, "Crash safety")."""

import os
import random
import time
from datetime import datetime

import pytest

from booking.models import Reminder
from tests.booking.outbox_processes import (
    WorkerProcess,
    assert_each_reminder_sent_exactly_once,
    logged_count,
    open_count,
    outbound,
    queue_numbered_reminders,
    wait_until_all_done,
    worker_env,
)

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
