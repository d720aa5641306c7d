"""python manage.py demo_lesson: a lesson of teacher_phucthuan's class starting
now, so a newcomer can try a live lesson at once."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from classrooms import actions, demo
from classrooms.errors import TeacherBusy
from classrooms.models import Lesson

TEACHER = "teacher_phucthuan"


class Command(BaseCommand):
    help = "Add a lesson starting now to teacher_phucthuan's class (Phúc Thuận) and print the room URL and accounts."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=45, help="How long the lesson lasts")

    def handle(self, *args, minutes, **options):
        if minutes < 5:
            raise CommandError("A lesson lasts at least 5 minutes.")
        school_class = demo.class_of(TEACHER)
        if school_class is None:
            raise CommandError("Load the demo data first: python manage.py seed_demo --password PW")
        now = timezone.now()
        # A lesson whose room is open now (a timetabled one, or one made by an earlier run) is reused.
        lesson = next(
            (lesson for lesson in school_class.lessons.held().filter(ended_at__isnull=True, starts_at__lte=now + timedelta(hours=1))
             if lesson.is_open_at(now)),
            None,
        ) or self.add(school_class, now, minutes)
        url = settings.PUBLIC_BASE_URL + lesson.room_url()
        pupils = school_class.active_pupils().select_related("user", "learning_point__device_user").order_by("user__username")
        self.stdout.write(f"Lesson {lesson.pk}: {timezone.localtime(lesson.starts_at):%H:%M}–{timezone.localtime(lesson.ends_at):%H:%M}, "
                          f"{school_class.subject} {school_class.name}, {school_class.school.name}")
        self.stdout.write("Open the room in one browser (or private window) per account; the password is seed_demo's:")
        self.stdout.write(f"  teacher  {TEACHER:<22} {url}")
        devices = {}
        for pupil in pupils:
            if pupil.user is not None:
                self.stdout.write(f"  pupil    {pupil.user.username:<22} {url}   ({pupil.full_name})")
            if pupil.learning_point and pupil.learning_point.device_user:
                devices.setdefault(pupil.learning_point.device_user.username, []).append(pupil.full_name)
        for username, names in devices.items():
            self.stdout.write(f"  device   {username:<22} {url}   (learning point, for {', '.join(names)})")

    def add(self, school_class, now, minutes):
        # Ends before the teacher's next lesson, if that comes sooner.
        following = Lesson.objects.held().for_teacher(school_class.teacher).filter(starts_at__gt=now).order_by("starts_at").first()
        end = now + timedelta(minutes=minutes)
        if following is not None and following.starts_at < end:
            end = following.starts_at
        if end - now < timedelta(minutes=5):
            raise CommandError(f"{TEACHER} has another lesson in a few minutes; try again after it.")
        try:
            return actions.add_lesson(school_class=school_class, start=now, by=school_class.teacher.user, duration=end - now, now=now)
        except TeacherBusy:
            raise CommandError(f"{TEACHER} is teaching another lesson now; try again when it ends.") from None
