"""The API's sign-in: a token with its expiry (locked out like the login page), and logout."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.lockout import api_lockout_message
from accounts.tokens import issue_token, token_expires_at

ERROR = OpenApiResponse(description="Error with `detail` and `code`, or per-field errors")


class LockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"

    def __init__(self):
        super().__init__(api_lockout_message())
        self.wait = int(settings.AXES_COOLOFF_TIME.total_seconds())  # DRF sends it as Retry-After


class TokenAnswer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ObtainToken(ObtainAuthToken):
    """The caller's API token and when it expires; a new one once it has."""

    @extend_schema(request=AuthTokenSerializer, responses={200: TokenAnswer, 400: ERROR, 429: ERROR})
    def post(self, request, *args, **kwargs):
        form = self.get_serializer(data=request.data)
        if not form.is_valid():
            # django-axes marks the request when the account or address is (now) locked out.
            if getattr(request, "axes_locked_out", False):
                raise LockedOut()
            raise exceptions.ValidationError(form.errors)
        token = issue_token(form.validated_data["user"])
        return Response(TokenAnswer({"token": token.key, "expires_at": token_expires_at(token)}).data)


class Logout(APIView):
    """Deletes the caller's token: it no longer works anywhere."""

    @extend_schema(request=None, responses={204: None, 401: ERROR})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=204)
