from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Signing in: lockouts after failed attempts (django-axes), the throttled
    password reset, and API tokens that expire and are revoked."""

    name = "accounts"

    def ready(self):
        from accounts import revocation

        revocation.connect()
