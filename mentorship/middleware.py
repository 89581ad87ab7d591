"""Compression of the pages, not of the files."""

from django.http import FileResponse
from django.middleware import gzip


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
