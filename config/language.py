"""Vietnamese unless the user chose otherwise.

Django's LocaleMiddleware follows the browser's Accept-Language, and many phones
and shared station PCs are set to English although their users read Vietnamese.
Only the language the user picked (the cookie set by /i18n/setlang/) counts here.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = dict(settings.LANGUAGES)
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
