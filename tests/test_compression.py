"""Pages go out gzip-compressed to browsers that accept it; files go out as
they are stored."""

import gzip
import re

from django.urls import reverse

from tests.test_signed_pdf import body, sign_both, stored

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
# Masked afresh for every response (Django's defence against BREACH).
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def varies_on(response):
    return {header.strip().lower() for header in response.get("Vary", "").split(",")}


def without_csrf_tokens(html):
    return CSRF_TOKEN.sub(b'name="csrfmiddlewaretoken" value=""', html)


def test_a_page_is_gzipped_for_a_browser_that_accepts_it(mentor_client, agreement):
    url = reverse("agreements:detail", args=[agreement.uuid])

    compressed = mentor_client.get(url, **GZIP)
    plain = mentor_client.get(url)

    assert compressed.status_code == plain.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert "accept-encoding" in varies_on(compressed)
    html = gzip.decompress(compressed.content)
    assert len(compressed.content) < len(html) / 3
    assert without_csrf_tokens(html) == without_csrf_tokens(plain.content)
    assert agreement.mentee.full_name.encode() in html


def test_a_page_is_plain_for_a_client_that_does_not_ask(mentor_client, agreement):
    response = mentor_client.get(reverse("agreements:detail", args=[agreement.uuid]))

    assert not response.has_header("Content-Encoding")
    # A cache must not hand this plain copy to a browser that asked for gzip, or back.
    assert "accept-encoding" in varies_on(response)
    assert response.content.startswith(b"<!doctype html>")
    assert agreement.mentee.full_name.encode() in response.content


def test_a_sealed_pdf_is_sent_as_stored_not_compressed_again(
    mentor_client, ready, django_capture_on_commit_callbacks
):
    version = sign_both(ready, django_capture_on_commit_callbacks)
    pdf = stored(version.pdf)

    response = mentor_client.get(
        reverse("agreements:version_pdf", args=[ready.uuid, version.number]), **GZIP
    )

    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert response["Content-Length"] == str(len(pdf))
    assert body(response) == pdf
