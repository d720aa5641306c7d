"""Two outbox worker processes share one outbox on PostgreSQL (FOR UPDATE SKIP
LOCKED in booking.worker.claim_due): each message goes out once, and both work."""

from collections import Counter

import pytest
from django.db import connection

from booking.models import Reminder
from tests.booking.outbox_processes import (
    WorkerProcess,
    assert_each_reminder_sent_exactly_once,
    open_count,
    outbound,
    queue_numbered_reminders,
    wait_until_all_done,
    worker_env,
)

REMINDERS = 300
SENDING_SECONDS = 60


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_outbox_and_send_each_reminder_once(start_sms_stub, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("several workers share the outbox through PostgreSQL row locks")
    log_path = tmp_path / "outbound.jsonl"
    stub = start_sms_stub(log_path=log_path)
    # Nobody dies here: a lease that outlasts the test, so no claim is ever taken over.
    env = worker_env(stub, OUTBOX_LEASE_SECONDS="300")
    workers = [WorkerProcess(env, tmp_path / f"worker-{n}.out") for n in range(2)]
    try:
        for worker in workers:
            worker.wait_until_started()
        # Queued once both are polling, so that neither has a head start.
        queue_numbered_reminders(REMINDERS, recipients=REMINDERS)
        finished = wait_until_all_done(SENDING_SECONDS)
    finally:
        exit_codes = [worker.stop() for worker in workers]
    assert finished, f"{open_count()} still open after {SENDING_SECONDS} s"
    assert exit_codes == [0, 0], [worker.output.read_text()[-2000:] for worker in workers]

    reminders = list(Reminder.objects.order_by("pk"))
    messages = outbound(stub)
    assert_each_reminder_sent_exactly_once(reminders, messages)
    assert len(messages) == REMINDERS
    shares = Counter(r.claimed_by for r in reminders)
    print(f"reminders sent by each worker: {dict(shares)}")
    assert set(shares) == {worker.name for worker in workers}
    # Claimed once each: no worker ever took a row the other held.
    assert {r.attempts for r in reminders} == {1}
