"""Pages of teachers, school staff, pupils and learning points. The lesson room
itself is classrooms.room_views."""

import csv
from datetime import datetime, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking import feeds
from classrooms import actions
from classrooms.access import get_class_for, get_lesson_for, get_recording_for, pupils_of
from classrooms.errors import LessonError
from classrooms.forms import AddLessonForm, MoveLessonForm
from classrooms.models import Attendance, Lesson, Recording, School, SchoolClass
from classrooms.replay import serve_file

UPCOMING_DAYS = 14
PAST_LESSONS_SHOWN = 20
COMING_LESSONS_SHOWN = 14


def teacher_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not hasattr(request.user, "teacher"):
            raise PermissionDenied(_("This page is for teachers."))
        return view(request, *args, **kwargs)

    return wrapper


def _with_join_links(lessons, now):
    lessons = list(lessons)
    for lesson in lessons:
        lesson.can_join = lesson.is_open_at(now)
    return lessons


def feed_url(request, owner):
    feed = feeds.active_feed(owner)
    return request.build_absolute_uri(reverse("calendar-feed", args=[feed.token])) if feed else None


@teacher_required
def teacher_dashboard(request):
    teacher = request.user.teacher
    now = timezone.now()
    today = timezone.localdate()
    day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=timezone.get_current_timezone())
    lessons = Lesson.objects.for_teacher(teacher).held().select_related("school_class")
    return render(request, "classrooms/teacher_dashboard.html", {
        "teacher": teacher,
        "classes": teacher.classes.filter(term_end__gte=today).select_related("school"),
        "today": _with_join_links(lessons.filter(ends_at__gte=now - timedelta(hours=1), starts_at__lt=day_end), now),
        "upcoming": _with_join_links(lessons.filter(starts_at__gte=day_end, starts_at__lt=now + timedelta(days=UPCOMING_DAYS)), now),
        "feed_url": feed_url(request, teacher), "feed_action": reverse("classrooms:calendar_feed", args=["teacher"]),
    })


@login_required
def class_detail(request, pk):
    school_class = get_class_for(request.user, pk)
    now = timezone.now()
    lessons = school_class.lessons.all()
    upcoming = _with_join_links(
        lessons.filter(ends_at__gte=now).order_by("starts_at").prefetch_related("absence_notices__pupil")[:COMING_LESSONS_SHOWN], now)
    past = list(lessons.filter(starts_at__lt=now).order_by("-starts_at").prefetch_related(
        "attendance__pupil", "recordings", "absence_notices__pupil")[:PAST_LESSONS_SHOWN])
    return render(request, "classrooms/class_detail.html", {
        "c": school_class, "timetable": school_class.timetable.all(),
        "holidays": school_class.holidays().filter(end_date__gte=school_class.term_start, start_date__lte=school_class.term_end),
        "enrolments": school_class.enrolments.filter(ended_at__isnull=True).select_related("pupil__learning_point", "pupil__user"),
        "upcoming": upcoming, "past": past, "move_form": MoveLessonForm(), "add_form": AddLessonForm(),
        "feed_url": feed_url(request, school_class), "feed_action": reverse("classrooms:calendar_feed", args=["class", school_class.pk]),
    })


def _run(request, action, success_message, **kwargs):
    """Call an action for a page and turn a refusal into a message."""
    try:
        action(**kwargs)
    except LessonError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message)


@require_POST
@login_required
def lesson_move(request, pk):
    lesson = get_lesson_for(request.user, pk)
    form = MoveLessonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a new time."))
    else:
        _run(request, actions.move_lesson, _("Lesson moved; guardians who agreed to SMS are told."),
             lesson=lesson, new_start=form.cleaned_data["start"], by=request.user)
    return redirect("classrooms:class", pk=lesson.school_class_id)


@require_POST
@login_required
def lesson_cancel(request, pk):
    lesson = get_lesson_for(request.user, pk)
    _run(request, actions.cancel_lesson, _("Lesson cancelled; guardians who agreed to SMS are told."), lesson=lesson, by=request.user)
    return redirect("classrooms:class", pk=lesson.school_class_id)


@require_POST
@login_required
def lesson_add(request, pk):
    school_class = get_class_for(request.user, pk)
    form = AddLessonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a time and a length between 5 and 300 minutes."))
    else:
        _run(request, actions.add_lesson, _("Extra lesson added; guardians who agreed to SMS are told."),
             school_class=school_class, start=form.cleaned_data["start"], by=request.user,
             duration=timedelta(minutes=form.cleaned_data["duration_minutes"]))
    return redirect("classrooms:class", pk=school_class.pk)


@login_required
def attendance_csv(request, pk):
    """Every join and leave of the class's lessons that took place, and who was absent."""
    school_class = get_class_for(request.user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{school_class.pk}.csv"'
    response.write("\ufeff")  # spreadsheet programs then read the Vietnamese names as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Date"), _("Lesson start"), _("Lesson end"), _("Pupil"), _("Joined"), _("Left"), _("Minutes"), _("Via")])
    enrolments = list(school_class.enrolments.select_related("pupil"))
    lessons = school_class.lessons.filter(started_at__isnull=False).order_by("starts_at").prefetch_related("attendance__pupil")
    for lesson in lessons:
        start, end = timezone.localtime(lesson.starts_at), timezone.localtime(lesson.ends_at)
        head = [f"{start:%Y-%m-%d}", f"{start:%H:%M}", f"{end:%H:%M}"]
        rows = sorted(lesson.attendance.all(), key=lambda a: (a.pupil.full_name, a.joined_at))
        for row in rows:
            left = timezone.localtime(row.left_at) if row.left_at else None
            minutes = f"{row.duration.total_seconds() / 60:.0f}" if row.duration else ""
            writer.writerow(head + [row.pupil.full_name, f"{timezone.localtime(row.joined_at):%H:%M:%S}",
                                    f"{left:%H:%M:%S}" if left else "", minutes, row.get_via_display()])
        present = {row.pupil_id for row in rows}
        for enrolment in enrolments:
            covered = enrolment.enrolled_at <= lesson.starts_at and (enrolment.ended_at is None or enrolment.ended_at > lesson.starts_at)
            if covered and enrolment.pupil_id not in present:
                writer.writerow(head + [enrolment.pupil.full_name, _("absent"), "", "0", ""])
    return response


@login_required
def school_attendance(request):
    """School staff: every class of their schools, with how many pupils came to each lesson held."""
    schools = School.objects.filter(staff=request.user)
    if not schools.exists():
        raise PermissionDenied(_("This page is for school staff."))
    classes = SchoolClass.objects.filter(school__in=schools, term_end__gte=timezone.localdate() - timedelta(days=180))
    summary = []
    for school_class in classes.select_related("school", "teacher__user"):
        held = list(school_class.lessons.filter(started_at__isnull=False).order_by("-starts_at")[:10])
        present = {
            row["lesson"]: row["n"] for row in
            Attendance.objects.filter(lesson__in=held).values("lesson").annotate(n=Count("pupil", distinct=True))
        }
        summary.append((school_class, school_class.active_pupils().count(), [(lesson, present.get(lesson.pk, 0)) for lesson in held]))
    return render(request, "classrooms/school_attendance.html", {"schools": schools, "summary": summary})



@login_required
def pupil_home(request):
    """A pupil's own account, or a learning point's device: coming lessons and recordings."""
    pupils = pupils_of(request.user)
    is_device = hasattr(request.user, "learning_point")
    if not pupils and not hasattr(request.user, "pupil") and not is_device:
        raise PermissionDenied(_("This page is for pupils and learning points."))
    now = timezone.now()
    lessons = Lesson.objects.for_pupils(pupils).select_related("school_class__teacher__user")
    upcoming = _with_join_links(lessons.held().filter(ends_at__gte=now, starts_at__lt=now + timedelta(days=UPCOMING_DAYS)), now)
    recordings = (
        Recording.objects.kept().filter(lesson__in=lessons, ended_at__isnull=False)
        .select_related("lesson__school_class").order_by("-started_at")[:30]
    )
    own = getattr(request.user, "pupil", None)
    return render(request, "classrooms/pupil_home.html", {
        "pupils": pupils, "is_device": is_device, "upcoming": upcoming, "recordings": recordings,
        "point": getattr(request.user, "learning_point", None),
        "feed_url": feed_url(request, own) if own else None,
        "feed_action": reverse("classrooms:calendar_feed", args=["pupil"]) if own else None,
    })


@login_required
def recording_detail(request, pk):
    recording = get_recording_for(request.user, pk)
    return render(request, "classrooms/recording.html", {"r": recording, "lesson": recording.lesson})


@login_required
def recording_file(request, pk, kind):
    """The video or the small audio-only file, inline for the player or as a download."""
    recording = get_recording_for(request.user, pk)
    path = recording.file(kind) if kind in ("video", "audio") else None
    if path is None or not path.is_file():
        raise Http404
    start = timezone.localtime(recording.lesson.starts_at)
    name = f"{recording.lesson.school_class.name}-{start:%Y%m%d-%H%M}-{kind}{path.suffix}"
    return serve_file(request, path, download_name=name, as_attachment=request.GET.get("download") == "1")


def _feed_owner(request, kind, pk=None):
    if kind == "teacher" and hasattr(request.user, "teacher"):
        return request.user.teacher
    if kind == "pupil" and hasattr(request.user, "pupil"):
        return request.user.pupil
    if kind == "class" and pk is not None:
        return get_class_for(request.user, pk)
    raise PermissionDenied(_("You may not manage this calendar."))


@require_POST
@login_required
def calendar_feed(request, kind, pk=None):
    """Create a new private calendar address (the old one stops working), or revoke it."""
    owner = _feed_owner(request, kind, pk)
    if request.POST.get("action") == "revoke":
        feeds.revoke_feed(owner)
        messages.success(request, _("The calendar address no longer works."))
    else:
        feeds.renew_feed(owner)
        messages.success(request, _("New calendar address created. Anyone with it can see the calendar: share it with care."))
    target = request.POST.get("next")
    return redirect(target if url_has_allowed_host_and_scheme(target, None) else "home")

