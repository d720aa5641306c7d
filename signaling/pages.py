"""What a room page needs: the page's texts and settings for room.js."""

from django.utils.translation import gettext as _


def room_labels() -> dict:
    return {
        "connecting": _("Connecting…"),
        "waiting": _("Connected. Waiting for the other side…"),
        "in_call": _("In the call."),
        "camera_refused": _("The camera or microphone was refused. Allow them in the browser's settings and reload the page."),
        "camera_missing": _("No camera found: joining with sound only."),
        "microphone_refused": _("The microphone was refused. Allow it in the browser's settings and reload the page."),
        "microphone_missing": _("No microphone found: you can listen but not speak."),
        "not_logged_in": _("Please log in again."),
        "refused": _("You may not enter this room now."),
        "no_room": _("This room does not exist or was cancelled."),
        "too_many": _("Too many messages; reload the page."),
        "disconnected": _("The connection was lost."),
        "media_failed": _("The call could not connect. Check the network and reload the page."),
        "nobody_yet": _("Nobody else is here yet."),
        "muted": _("muted"),
        "camera_is_off": _("camera off"),
        "audio_only": _("audio only"),
        "you_left": _("You left the call."),
    }


def room_config(room_id: str) -> dict:
    return {"roomId": room_id, "labels": room_labels(), "video": {"width": 320, "height": 240}}
