"""python manage.py outbox_worker: sends due SMS reminders and email invites.

Run one or several (on PostgreSQL they share the outbox through row locks).
Stops cleanly on SIGTERM or SIGINT after the batch in hand (at most --batch-size
messages, each bounded by SMS_TIMEOUT_SECONDS).
"""

import signal
import time

from django.core.management.base import BaseCommand

from booking.worker import OutboxWorker


class Command(BaseCommand):
    help = "Send due messages from the outbox (SMS reminders, email invites) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit")
        parser.add_argument("--batch-size", type=int, default=10)
        parser.add_argument("--idle-sleep", type=float, default=1.0, help="Seconds to wait when nothing is due")

    def handle(self, *args, once, batch_size, idle_sleep, **options):
        self.stopping = False

        def stop(signum, frame):
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker = OutboxWorker(batch_size=batch_size)
        self.stdout.write(f"outbox worker {worker.name} started")
        try:
            while not self.stopping:
                did_work = worker.step()
                if once and not did_work:
                    break
                if not did_work:
                    time.sleep(idle_sleep)
        finally:
            worker.gateway.close()
        self.stdout.write(f"outbox worker {worker.name} stopped")
