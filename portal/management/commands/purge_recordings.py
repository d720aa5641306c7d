"""python manage.py purge_recordings: delete lesson recordings older than
RECORDINGS_KEEP_DAYS and consultation recordings older than
CONSULTATION_RECORDINGS_KEEP_DAYS (run it daily, e.g. from cron or a systemd
timer). Each deleted consultation recording is written to the audit log."""

from django.conf import settings
from django.core.management.base import BaseCommand

from classrooms import actions
from telecare import actions as telecare_actions


class Command(BaseCommand):
    help = ("Delete recording files older than RECORDINGS_KEEP_DAYS (lessons) and CONSULTATION_RECORDINGS_KEEP_DAYS "
            "(consultations) and mark their rows deleted.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of lessons instead of RECORDINGS_KEEP_DAYS")
        parser.add_argument("--consultation-days", type=int, default=None,
                            help="Keep this many days of consultations instead of CONSULTATION_RECORDINGS_KEEP_DAYS")

    def handle(self, *args, days, consultation_days, **options):
        keep = settings.RECORDINGS_KEEP_DAYS if days is None else days
        purged, freed = actions.purge_recordings(keep_days=keep)
        self.stdout.write(f"Deleted {purged} recordings older than {keep} days ({freed / 1e6:.1f} MB).")
        keep = settings.CONSULTATION_RECORDINGS_KEEP_DAYS if consultation_days is None else consultation_days
        purged, freed = telecare_actions.purge_consultation_recordings(keep_days=keep)
        self.stdout.write(f"Deleted {purged} consultation recordings older than {keep} days ({freed / 1e6:.1f} MB).")
