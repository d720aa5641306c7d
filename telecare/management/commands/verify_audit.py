"""python manage.py verify_audit [--expect-head SEQ:HASH]: walk the audit log's
hash chain and report its first broken link (exit status 1), or print the
number of entries and the head to publish elsewhere (exit status 0)."""

import argparse
import re

from django.core.management.base import BaseCommand, CommandError

from telecare import audit
from telecare.audit_chain import Head

HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


def published_head(value: str) -> Head:
    match = HEAD.fullmatch(value.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"--expect-head takes SEQ:HASH (the hash as 64 hex digits), not {value!r}")
    return Head(int(match[1]), match[2])


class Command(BaseCommand):
    help = "Check that the audit log is whole: every entry matches its hash, links to the one before it, and ends at the head."

    def add_arguments(self, parser):
        parser.add_argument("--expect-head", type=published_head, default=None, metavar="SEQ:HASH",
                            help="A head printed by an earlier run and kept elsewhere: the log must still hold it")
        parser.add_argument("--batch-size", type=int, default=1000, help="Entries read at a time")

    def handle(self, *args, expect_head, batch_size, **options):
        head, broken = audit.verify(expect=expect_head, batch_size=batch_size)
        if broken is not None:
            raise CommandError(f"The audit log is broken at {broken}. "
                               f"The chain holds up to entry {head.seq}.")
        self.stdout.write(f"The audit log is whole: {head.seq} entries. Head: {head}")
