"""The one place that turns booking errors into API answers."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from telecare.errors import BookingError


def exception_handler(exc, context):
    if isinstance(exc, BookingError):
        body = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        return Response(body, status=exc.status)
    return drf_exception_handler(exc, context)
