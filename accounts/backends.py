"""django-axes' lockout check, first of AUTHENTICATION_BACKENDS."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses sign-ins while the account or the address is locked out.

    Every web sign-in (login page, admin, API token) passes its request; a call
    without one (the shell, a command, the test client's login) is not a sign-in
    from anywhere, so there is nothing to count it against."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
