"""The one place that turns booking errors into API answers."""

from rest_framework.exceptions import APIException, ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from telecare.errors import BookingError


def exception_handler(exc, context):
    if isinstance(exc, BookingError):
        body = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        return Response(body, status=exc.status)
    response = drf_exception_handler(exc, context)
    # DRF's one-message errors get their code too ("token_expired", "locked_out", "not_authenticated").
    if response is not None and isinstance(exc, APIException) and isinstance(exc.detail, ErrorDetail):
        response.data["code"] = exc.detail.code
    return response
