"""What a room page needs: the page's texts and settings for room.js, and the
browser's leave to use camera, microphone and screen, and to open its socket."""

from functools import wraps

from django.conf import settings
from django.utils.translation import gettext as _
from django_permissions_policy.decorators import permissions_policy_override


def room_page(*, screen: bool = False):
    """A view's decorator: its page may use camera and microphone (and share the
    screen), which settings.PERMISSIONS_POLICY denies every other page, and
    connect its socket to this host (CSP 'self' covers ws: in CSP3 browsers only)."""
    devices = {"camera": ["self"], "microphone": ["self"]} | ({"display-capture": ["self"]} if screen else {})
    allow_devices = permissions_policy_override({**settings.PERMISSIONS_POLICY, **devices})

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            scheme = "wss" if request.is_secure() else "ws"
            response._csp_update = {"connect-src": [f"{scheme}://{request.get_host()}"]}
            return response

        return allow_devices(wrapper)

    return decorator


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
        "reconnecting": _("Reconnecting…"),
        "reconnected": _("Reconnected."),
        "other_reconnecting": _("%(name)s is reconnecting…"),
        "connection_lost": _("The connection is lost. Check the network, then try again."),
        "try_again": _("Try again"),
        "reconnecting_call": _("Reconnecting the call…"),
        "call_back": _("The call is back."),
        "blocked": _("The call could not get through this network. You can try audio only over TURN/TCP."),
        "blocked_other_network": _("The call could not get through this network. Try another network, such as mobile data."),
        "relay_audio": _("Audio only over TURN/TCP"),
        "relay_connecting": _("Connecting audio only over TURN/TCP…"),
        "relay_in_call": _("In the call: audio only over TURN/TCP."),
        "nobody_yet": _("Nobody else is here yet."),
        "record": _("Record"),
        "stop_recording": _("Stop recording"),
        "muted": _("muted"),
        "camera_is_off": _("camera off"),
        "audio_only": _("audio only"),
        "you_left": _("You left the call."),
        # Weak links (quality.js): the indicator, and the server's steps down and up.
        "quality_good": _("Connection: good"),
        "quality_fair": _("Connection: fair"),
        "quality_poor": _("Connection: poor"),
        "quality_loss": _("loss %(loss)s"),
        "quality_rtt": _("round trip %(ms)s ms"),
        "quality_jitter": _("jitter %(ms)s ms"),
        "quality_outgoing": _("%(kbps)s kbit/s out"),
        "quality_because_loss": _("packets are being lost"),
        "quality_because_bandwidth": _("too little bandwidth"),
        "quality_audio_only": _("%(time)s: Weak connection (%(why)s): switched to audio only."),
        "quality_stills": _("%(time)s: Weak connection (%(why)s): switched to sound and still pictures."),
        "quality_smaller": _("%(time)s: Weak connection (%(why)s): switched to a smaller picture (%(width)s×%(height)s)."),
        "quality_video_back": _("%(time)s: Connection recovered: video is back."),
        "quality_bigger": _("%(time)s: Connection better: a bigger picture (%(width)s×%(height)s)."),
        "quality_other_audio_only": _("%(name)s's connection is weak: audio only."),
        "quality_other_stills": _("%(name)s's connection is weak: sound and still pictures."),
        "quality_other_smaller": _("%(name)s's connection is weak: smaller picture."),
        "quality_other_recovered": _("%(name)s's connection recovered."),
    }


def room_config(room_id: str) -> dict:
    return {
        "roomId": room_id, "labels": room_labels(), "video": {"width": 320, "height": 240},
        # How long the page tries to get its socket back: as long as the server keeps its place.
        "reconnectSeconds": settings.RECONNECT_GRACE_SECONDS,
    }
