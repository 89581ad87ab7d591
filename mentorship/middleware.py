"""The app's own middleware: compression of the pages (not of the files), and
the language a signed-in person chose."""

from django.http import FileResponse
from django.middleware import gzip
from django.utils import translation


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's GZipMiddleware, except for files.

    The PDFs are compressed already: gzip would spend CPU on every download to
    gain nothing, and would replace the file a WSGI server sends by sendfile
    (``wsgi.file_wrapper``) with a stream of compressed chunks.
    """

    def process_response(self, request, response):
        if isinstance(response, FileResponse):
            return response
        return super().process_response(request, response)


class UserLanguageMiddleware:
    """The language a signed-in person chose in their settings.

    LocaleMiddleware has chosen one already, from the switcher's cookie or the
    browser's Accept-Language; a choice saved with the account follows the
    person to every browser, so it wins. Someone who has not chosen keeps
    LocaleMiddleware's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "chosen_language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
