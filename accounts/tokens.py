"""API tokens that stop working API_TOKEN_TTL after they were issued."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expires_at(token: Token) -> datetime:
    return token.created + settings.API_TOKEN_TTL


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            raise exceptions.AuthenticationFailed(
                _("This token has expired. Ask for a new one at /api/v1/auth/token/."), code="token_expired"
            )
        return user, token


def issue_token(user) -> Token:
    """The user's token, or a new one if theirs has expired."""
    Token.objects.filter(user=user, created__lte=timezone.now() - settings.API_TOKEN_TTL).delete()
    token, _created = Token.objects.get_or_create(user=user)
    return token
