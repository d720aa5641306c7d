"""python manage.py purge_recordings: delete lesson recordings older than
RECORDINGS_KEEP_DAYS (run it daily, e.g. from cron or a systemd timer)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from classrooms import actions


class Command(BaseCommand):
    help = "Delete recording files older than RECORDINGS_KEEP_DAYS and mark their rows deleted."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days instead of RECORDINGS_KEEP_DAYS")

    def handle(self, *args, days, **options):
        keep = settings.RECORDINGS_KEEP_DAYS if days is None else days
        purged, freed = actions.purge_recordings(keep_days=keep)
        self.stdout.write(f"Deleted {purged} recordings older than {keep} days ({freed / 1e6:.1f} MB).")
