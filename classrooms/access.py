"""Who may see which class, lesson and recording. Fetches raise 404 rather than
403, so that a guess at another school's ids learns nothing."""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from classrooms.models import Lesson, Pupil, Recording, SchoolClass


def classes_visible_to(user) -> QuerySet[SchoolClass]:
    """Teachers: their classes. School staff: every class of their schools."""
    if not user.is_authenticated:
        return SchoolClass.objects.none()
    mine = Q(school__staff=user)
    teacher = getattr(user, "teacher", None)
    if teacher is not None:
        mine |= Q(teacher=teacher)
    return SchoolClass.objects.filter(mine).distinct()


def get_class_for(user, pk) -> SchoolClass:
    return get_object_or_404(classes_visible_to(user).select_related("school", "teacher__user"), pk=pk)


def get_lesson_for(user, pk) -> Lesson:
    """A lesson of a class the user teaches or runs."""
    return get_object_or_404(
        Lesson.objects.filter(school_class__in=classes_visible_to(user)).select_related("school_class__school", "school_class__teacher"),
        pk=pk,
    )


def pupils_of(user) -> list[Pupil]:
    """The pupils an account stands for: a pupil's own account, or every pupil of a learning point for its device."""
    if not user.is_authenticated:
        return []
    pupil = getattr(user, "pupil", None)
    if pupil is not None:
        return [pupil]
    point = getattr(user, "learning_point", None)
    if point is not None:
        return list(point.pupils.filter(enrolments__ended_at__isnull=True).distinct().order_by("full_name"))
    return []


def get_recording_for(user, pk) -> Recording:
    recording = get_object_or_404(
        Recording.objects.kept().select_related("lesson__school_class__school", "lesson__school_class__teacher"), pk=pk
    )
    if not recording.lesson.recordings_visible_to(user):
        raise Http404
    return recording

