"""The lesson room page. The socket decides when the room is open and what each
participant may do; the page only shows the lesson to its teacher and pupils."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from classrooms.models import Lesson
from signaling.pages import room_config, room_page


def lesson_labels() -> dict:
    """The texts lesson.js shows, besides the room's."""
    return {
        "connected": _("Connected."),
        "lesson_waiting_teacher": _("The lesson has not started. Start it when your pupils are here."),
        "lesson_waiting_pupil": _("Waiting for the teacher to start the lesson…"),
        "lesson_live": _("The lesson is live."),
        "lesson_ended": _("The lesson has ended."),
        "end_confirm": _("End the lesson for everyone?"),
        "share": _("Share screen"),
        "stop_share": _("Stop sharing"),
        "screen_refused": _("The screen could not be shared."),
        "no_pupils": _("No pupil is here yet."),
        "present": _("Pupils here: %(count)s"),
        "hands": _("Raised hands: %(names)s"),
        "hand_raised": _("raised a hand"),
        "has_floor": _("has the floor"),
        "low_data_on": _("low-data mode"),
        "give_floor": _("Give the floor"),
        "take_floor": _("Take the floor back"),
        "mute_pupil": _("Mute"),
        "floor_you": _("You have the floor — speak."),
        "floor_other": _("%(name)s has the floor."),
        "floor_someone": _("A pupil has the floor."),
        "raise_hand": _("Raise hand"),
        "lower_hand": _("Lower hand"),
        "still_time": _("Picture of %(time)s"),
        "muted_by_teacher": _("The teacher turned your microphone off."),
    }


def lesson_room_config(room_id: str, role: str) -> dict:
    config = room_config(room_id)
    config["labels"].update(lesson_labels())
    config["role"] = role
    return config


@room_page(screen=True)  # the teacher shares the screen
@login_required
def lesson_room(request, room_id):
    lesson = get_object_or_404(
        Lesson.objects.select_related("school_class__teacher__user", "school_class__school"), room_id=room_id
    )
    role = lesson.role_of(request.user)
    if role is None:
        raise PermissionDenied(_("This lesson is only for its class's teacher and the pupils enrolled in the class."))
    side, pupils = role
    return render(request, "classrooms/lesson_room.html", {
        "lesson": lesson, "role": side, "pupils": pupils,
        "open": not lesson.is_cancelled and lesson.ended_at is None,
        "room_config": lesson_room_config(room_id, side),
    })
