"""Django's password reset page, throttled like sign-ins.

Each request counts as a failed attempt in django-axes, for the email address
asked about (whether or not it belongs to anyone, so the limit tells nothing)
and for the client's address: past the limit no more mail goes out, so the
page can be used neither to flood someone's mailbox nor to probe addresses.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.views import PasswordResetView

from accounts.lockout import lockout_response

# No username holds a colon, so these never count against a sign-in's account.
PREFIX = "password-reset:"


def reset_key(email: str) -> str:
    return (PREFIX + email.strip().lower())[:255]  # axes' username column


class ThrottledPasswordResetView(PasswordResetView):
    def post(self, request, *args, **kwargs):
        request.is_password_reset = True  # for the lockout page's wording
        credentials = {"username": reset_key(request.POST.get("email", ""))}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return lockout_response(request)
        AxesProxyHandler.user_login_failed(sender=type(self), credentials=credentials, request=request)
        if request.axes_locked_out:  # this request reached the limit: like a sign-in's, it is refused
            return lockout_response(request)
        return super().post(request, *args, **kwargs)
