"""Cache-Control: no-store on every dynamic response that does not choose its own.

Pages, the API, calendar feeds, attendance exports and recordings carry patients'
and pupils' data, and a shared device (a learning point, a station's computer)
must not keep them on disk nor a proxy pass them to someone else. Static files
never get here: WhiteNoiseMiddleware answers them first, with its own caching.
"""

from django.utils.deprecation import MiddlewareMixin


class NoStoreByDefaultMiddleware(MiddlewareMixin):
    def process_response(self, request, response):
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
