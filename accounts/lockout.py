"""What a locked-out sign-in or password reset request is answered with."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def api_lockout_message() -> str:
    return _("Too many failed attempts: logging in is paused for up to %(minutes)s minutes.") % {
        "minutes": lockout_minutes()
    }


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: our page (429), or the API's error shape under /api/.

    django-axes passes its arguments differently in its sync and async paths;
    only the request is needed."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        body = {"detail": api_lockout_message(), "code": "locked_out"}
        return JsonResponse(body, status=429, headers={"Retry-After": retry_after})
    context = {"minutes": lockout_minutes(), "password_reset": getattr(request, "is_password_reset", False)}
    response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = retry_after
    return response
