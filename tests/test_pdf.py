"""The agreement PDF: download, content, draft marking, access and the renderer's sandbox."""

import datetime
import hashlib
import io
import re
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import formats
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from agreements import demo
from agreements.models import Agreement, OffLimitsTopic, Section
from agreements.pdf import (
    STATIC_BASE_URL,
    RefusedURL,
    StaticFilesURLFetcher,
    draft_html,
    draft_pdf,
    render_signed_pdf,
)
from tests.helpers import client_for

START = datetime.date(2026, 3, 2)

ARABIC = "مرحبا بالعالم"
HEBREW = "שלום עולם"
CHINESE = "你好世界"
JAPANESE = "日本語のテキスト"
KOREAN = "안녕하세요"
ACCENTED = "Zoë Ångström, façade, naïve, Łódź, Ærøskøbing"
EMOJI = "🎉🌍"


# Helpers ---------------------------------------------------------------------


def reload(agreement):
    return Agreement.objects.with_working_copy().get(pk=agreement.pk)


def render(agreement):
    return draft_pdf(draft_html(reload(agreement)))


def edit(agreement, kind, *, by, change):
    """Change one section through the model's real save path, as the edit form does."""
    agreement = reload(agreement)
    section = agreement.sections_by_kind[kind]
    assert agreement.save_section(
        kind, by=by, expected_revision=section.revision, save=lambda: change(agreement)
    )


def page_texts(pdf):
    """The text of each page, whitespace collapsed (extraction breaks lines anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def squash(text):
    """Without any whitespace, for values a narrow column may break mid-token."""
    return re.sub(r"\s+", "", text)


def assert_labels_beside_values(pages, pairs):
    """Each label is followed by its value on one page (never split from it by a page break)."""
    for label, value in pairs:
        assert any(f"{label} {value}" in text for text in pages), (label, value)


# Rows of the label/value lists that demo.write_all fills in.
DEMO_FACTS = [
    ("How often", "Every two weeks"),
    ("Duration", "60 minutes"),
    ("Place or link", "Café on the ground floor, or Teams"),
    ("Notice to cancel or move", "24 hours"),
    ("Work matters the mentee chooses to share", "Performance feedback, team dynamics"),
    ("Life outside work the mentee is willing to discuss", "Work-life balance"),
    ("Areas the mentor brings in", "The mentor's own career moves"),
    ("What the mentor may tell the line manager", "Only that meetings take place."),
    ("What the mentee may tell the line manager", "Whatever the mentee chooses."),
    ("Early exit", "Either party may end the relationship"),
    ("Closing conversation", "If both want one"),
]


def pdf_url(agreement):
    return reverse("agreements:pdf", args=[agreement.uuid])


def download_draft(client, agreement, capture, assert_queries):
    """Ask for the draft PDF as a browser does: the page says it is being
    prepared (the worker renders it; here, once the request commits), then
    serves it when asked again."""
    with capture(execute=True):
        waiting = client.get(pdf_url(agreement))
    assert waiting.status_code == 202
    assert "Preparing your draft PDF" in waiting.text
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    # 14 to read; to log the download, one statement on PostgreSQL, four elsewhere.
    with assert_queries(18):
        response = client.get(pdf_url(agreement))
    return response, b"".join(response.streaming_content)


def walk_xobjects(resources):
    """Every XObject reachable from a resource dictionary, form XObjects included."""
    xobjects = resources.get("/XObject") if resources else None
    for xobject in (xobjects or {}).values():
        xobject = xobject.get_object()
        yield xobject
        if xobject.get("/Subtype") == "/Form":
            yield from walk_xobjects(xobject.get("/Resources"))


def image_xobjects(reader):
    return [
        xobject
        for page in reader.pages
        for xobject in walk_xobjects(page.get("/Resources"))
        if xobject.get("/Subtype") == "/Image"
    ]


def embedded_files(reader):
    names = reader.trailer["/Root"].get("/Names")
    catalog_files = names.get_object().get("/EmbeddedFiles") if names else None
    annotation_files = [
        annotation.get_object()
        for page in reader.pages
        for annotation in page.get("/Annots") or []
        if annotation.get_object().get("/Subtype") == "/FileAttachment"
    ]
    return catalog_files, annotation_files


def signature_block(pages):
    """The text of the signature box, without the footer that repeats the names
    and without the completion certificate that follows it in a signed PDF."""
    text = " ".join(pages).split("Signatures")[-1]
    return text.split("Generated")[0].split("Completion certificate")[0]


def pdf_streams(reader):
    """The decoded data of every stream object reachable from the trailer."""
    seen, stack = set(), [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, StreamObject):
            yield obj.get_data()
        if isinstance(obj, DictionaryObject):
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def missing_glyphs(reader):
    """Characters drawn with no glyph: .notdef, an id past the font's end, or an empty outline.

    WeasyPrint maps each glyph it draws back to its text in the font's ToUnicode
    map, so every drawn glyph can be checked against the embedded font program.
    """
    missing = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile2") or descriptor["/FontFile3"]
            ttf = TTFont(io.BytesIO(program.get_object().get_data()))
            glyphs = ttf.getGlyphOrder()
            # Colour emoji fonts are embedded with empty outlines and drawn as images.
            is_colour = "Emoji" in str(font["/BaseFont"])
            outlines = ttf["glyf"] if "glyf" in ttf and not is_colour else None
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            pairs = [
                pair
                for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.DOTALL)
                for pair in re.findall(r"<([0-9a-f]+)>\s*<([0-9a-f]+)>", block, re.IGNORECASE)
            ]
            for gid, code in pairs:
                gid, char = int(gid, 16), bytes.fromhex(code).decode("utf-16-be")
                if char.isspace():
                    continue
                if (
                    gid == 0
                    or gid >= len(glyphs)
                    or (outlines is not None and outlines[glyphs[gid]].numberOfContours == 0)
                ):
                    missing.append((str(font["/BaseFont"]), char))
    return missing


def font_names(reader):
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font") or {}
        names.update(str(font.get_object()["/BaseFont"]) for font in fonts.values())
    return names


def tiny_png():
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 that records every request it receives."""
    received = []
    png = tiny_png()

    class Handler(BaseHTTPRequestHandler):
        def handle_one_request(self):
            super().handle_one_request()
            if self.requestline:
                received.append(self.requestline)

        def do_GET(self):
            is_image = self.path.endswith(".png")
            body = png if is_image else b"body { color: red }"
            self.send_response(200)
            self.send_header("Content-Type", "image/png" if is_image else "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join()


def hostile_markup(base):
    return {
        "img": f'<img src="{base}/img.png">',
        "attachment": '<a rel="attachment" href="file:///etc/passwd">x</a>',
        "style": f"<style>body{{background:url({base}/css)}}</style>",
        "inline": f"<div style=\"background: url('{base}/inline')\">",
    }


# Download -------------------------------------------------------------------


@pytest.mark.parametrize("party", ["mentor", "mentee"])
def test_party_downloads_empty_draft_as_pdf(
    client,
    agreement,
    party,
    request,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    client = client_for(client, request.getfixturevalue(party))

    response, pdf = download_draft(
        client, agreement, django_capture_on_commit_callbacks, django_assert_max_num_queries
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert re.fullmatch(r'attachment; filename="[a-z0-9-]+\.pdf"', response["Content-Disposition"])
    assert (
        "mentoring-agreement-maria-mentor-milo-mentee-draft.pdf" in response["Content-Disposition"]
    )
    assert pdf.startswith(b"%PDF-")
    text = " ".join(page_texts(pdf))
    assert "Status Draft: not signed by both parties, not in force" in text
    assert "No goals yet." in text
    # Every section but the language, which the agreement has from the start.
    assert text.count("Not filled in.") == len(Section.Kind.values) - 1


# Content --------------------------------------------------------


def test_pdf_holds_the_text_of_every_section(
    client,
    agreement,
    mentor,
    mentee,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    demo.write_all(agreement, by=mentor, start=START)
    demo.agree_all(reload(agreement))
    agreement = reload(agreement)
    assert agreement.status == Agreement.Status.AWAITING_SIGNATURES
    client = client_for(client, mentee)

    response, pdf = download_draft(
        client, agreement, django_capture_on_commit_callbacks, django_assert_max_num_queries
    )

    assert response.status_code == 200
    text = " ".join(page_texts(pdf))
    for number, label in enumerate(Section.Kind.labels, start=1):
        assert f"{number}. {label}" in text
    term = agreement.term
    expected = [
        "Lead a project from kick-off to delivery.",
        "The mentee says most answers were their own.",
        formats.date_format(agreement.goals.all()[0].target_date, "SHORT_DATE_FORMAT"),
        formats.date_format(START + datetime.timedelta(days=60), "SHORT_DATE_FORMAT"),
        formats.date_format(START + datetime.timedelta(days=120), "SHORT_DATE_FORMAT"),
        "Salary negotiations Not discussed",
        "Health Only if the mentee raises it",
        "Performance feedback, team dynamics, career plans.",
        "Where it is safe, the mentor tells the mentee first.",
        "mentor@example.com",
        "mentee@example.com",
        "Teams, link in the invitation",
        "Weekdays 9:00–17:00",
        "Within two working days",
        "Every two weeks",
        "Café on the ground floor, or Teams",
        f"Start date {formats.date_format(term.start_date, 'SHORT_DATE_FORMAT')}",
        f"Exit date {formats.date_format(term.exit_date, 'SHORT_DATE_FORMAT')}",
        "Notice: 14 days.",
        "Awaiting signatures",
    ]
    for snippet in expected:
        assert snippet in text, snippet
    assert_labels_beside_values(page_texts(pdf), DEMO_FACTS)
    assert "Not filled in." not in text


# Draft mark, signatures and page numbers ----------------------------------


def test_draft_mark_on_every_page_until_both_have_signed(
    django_capture_on_commit_callbacks, client, agreement, mentor, mentee
):
    demo.write_all(agreement, by=mentor, start=START)

    def many_goals(agreement):
        for number in range(1, 31):
            agreement.goals.create(
                owner="mentee",
                description=f"Extra goal number {number}. " + "Grow steadily. " * 12,
                success_measure="Evidence from the sponsor. " * 4,
                target_date=START + datetime.timedelta(days=number),
            )

    edit(agreement, Section.Kind.GOALS, by=mentee, change=many_goals)
    demo.agree_all(reload(agreement))

    def assert_numbered(pages):
        total = len(pages)
        assert total >= 2
        for number, text in enumerate(pages, start=1):
            assert f"Page {number} of {total}" in text
            assert "Mentoring agreement · Maria Mentor and Milo Mentee" in text

    draft = page_texts(render(agreement))
    assert_numbered(draft)
    assert_labels_beside_values(draft, DEMO_FACTS)
    assert all("DRAFT" in text for text in draft)
    assert "This is a draft." in draft[-1]

    demo.sign_as(agreement, mentor)
    half_signed = page_texts(render(agreement))
    assert all("DRAFT" in text for text in half_signed)
    assert "Mentor Maria Mentor" in signature_block(half_signed)
    assert "Milo Mentee" not in signature_block(half_signed)

    with django_capture_on_commit_callbacks(execute=True):
        demo.sign_as(agreement, mentee)
    agreement = reload(agreement)
    assert agreement.status == Agreement.Status.ACTIVE
    version = agreement.version_in_force
    response = client_for(client, mentee).get(pdf_url(agreement), follow=True)
    assert response.status_code == 200
    signed = page_texts(b"".join(response.streaming_content))
    assert_numbered(signed)
    assert not any("DRAFT" in text for text in signed)
    assert not any("This is a draft." in text for text in signed)
    block = signature_block(signed)
    assert "Party Signed as Signed at (UTC)" in block
    signatures = agreement.signatures_on(version)
    for signature in signatures:
        assert signature.typed_name in block
        assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in block
    assert {s.typed_name for s in signatures} == {"Maria Mentor", "Milo Mentee"}
    assert re.fullmatch(r"[0-9a-f]{64}", version.content_hash)
    hash_line = f"Content hash (SHA-256 of the canonical content): {version.content_hash}"
    assert squash(hash_line) in squash(block)


def test_signing_times_are_printed_in_utc_whatever_the_time_zone(
    settings, agreement, mentor, mentee
):
    demo.write_all(agreement, by=mentor, start=START)
    demo.agree_all(reload(agreement))
    demo.sign_as(agreement, mentor)
    settings.TIME_ZONE = "America/New_York"

    draft = page_texts(render(agreement))

    agreement = reload(agreement)
    (signature,) = agreement.working_signatures()
    assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in signature_block(draft)
    changed = agreement.sections_by_kind[Section.Kind.TERM].updated_at
    assert f"on {changed.day} {changed:%B %Y, %H:%M} UTC." in " ".join(draft)

    demo.sign_as(agreement, mentee)
    version = reload(agreement).version_in_force
    signed = page_texts(render_signed_pdf(version))
    for signature in version.signatures.all():
        assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in signature_block(signed)
        assert signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") in signed[-1]


# Access -------------------------------------------------------------------


@pytest.mark.parametrize("user", ["outsider", "program_admin"])
def test_non_party_gets_404_for_pdf(client, agreement, user, request):
    response = client_for(client, request.getfixturevalue(user)).get(pdf_url(agreement))

    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")


def test_anonymous_is_redirected_to_login_for_pdf(client, agreement):
    url = pdf_url(agreement)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# The renderer reads the app's static files and nothing else ----------------


def test_markup_typed_into_fields_is_printed_not_fetched(http_server, agreement, mentor, mentee):
    base, received = http_server
    markup = hostile_markup(base)

    def goals(agreement):
        agreement.goals.create(
            owner="mentee",
            description=markup["img"],
            success_measure=markup["inline"],
            target_date=START,
        )

    def confidentiality(agreement):
        agreement.confidentiality.work_matters = markup["style"]
        agreement.confidentiality.exceptions_notes = markup["attachment"]
        agreement.confidentiality.save()

    def off_limits(agreement):
        agreement.off_limits_topics.create(
            topic=markup["attachment"], rule=OffLimitsTopic.Rule.NOT_DISCUSSED
        )

    def contact(agreement):
        preference = agreement.contact_for("mentor")
        preference.by_video = True
        preference.video_details = markup["img"]
        preference.preferred_times = markup["inline"]
        preference.save()

    edit(agreement, Section.Kind.GOALS, by=mentee, change=goals)
    edit(agreement, Section.Kind.CONFIDENTIALITY, by=mentor, change=confidentiality)
    edit(agreement, Section.Kind.OFF_LIMITS, by=mentee, change=off_limits)
    edit(agreement, Section.Kind.CONTACT, by=mentor, change=contact)

    pdf = render(agreement)

    assert received == []
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert embedded_files(reader) == (None, [])
    assert image_xobjects(reader) == []
    assert not any(b"root:x:0:0" in data for data in pdf_streams(reader))
    text = squash(" ".join(page_texts(pdf)))
    assert "root:x:0:0" not in text
    for typed in markup.values():
        assert squash(typed) in text, typed


def test_fetcher_refuses_hostile_html_that_the_default_fetcher_would_follow(
    http_server, monkeypatch
):
    base, received = http_server
    body = "".join(hostile_markup(base).values())
    head = f"<link rel=stylesheet href='{base}/link.css'>"
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)

    # Control: the same HTML with WeasyPrint's default fetcher reaches the server
    # and embeds /etc/passwd, so the assertions below can fail.
    unsafe = PdfReader(io.BytesIO(HTML(string=html, url_fetcher=URLFetcher()).write_pdf()))
    paths = {line.split()[1] for line in received}
    assert {"/link.css", "/img.png", "/css", "/inline"} <= paths
    assert embedded_files(unsafe)[1]
    assert any(b"root:x:0:0" in data for data in pdf_streams(unsafe))
    assert image_xobjects(unsafe)
    received.clear()

    pdf = HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticFilesURLFetcher())
    reader = PdfReader(io.BytesIO(pdf.write_pdf()))

    assert received == []
    assert reader.attachments == {}
    assert embedded_files(reader) == (None, [])
    assert not any(b"root:x:0:0" in data for data in pdf_streams(reader))
    assert image_xobjects(reader) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "file:///etc/passwd",
        "data:text/css;base64,Ym9keXtjb2xvcjpyZWR9",
        "data:image/png;base64,iVBORw0KGgo=",
        STATIC_BASE_URL + "../../etc/passwd",
        STATIC_BASE_URL + "pdf/../../../etc/passwd",
        STATIC_BASE_URL + "%2e%2e/%2e%2e/etc/passwd",
        STATIC_BASE_URL + "/etc/passwd",
        STATIC_BASE_URL + "pdf/missing.css",
        "https://static.mentorship.invalid.example.com/pdf/agreement.css",
        "HTTPS://static.mentorship.invalid/pdf/agreement.css/../../../../etc/passwd",
    ],
)
def test_fetcher_refuses_anything_but_static_files(http_server, url):
    base, received = http_server

    with pytest.raises(RefusedURL):
        StaticFilesURLFetcher().fetch(url.format(port=base.rsplit(":", 1)[1]))

    assert received == []


def test_fetcher_serves_the_pdf_stylesheet():
    response = StaticFilesURLFetcher().fetch(STATIC_BASE_URL + "pdf/agreement.css")

    with open(finders.find("pdf/agreement.css"), "rb") as file:
        assert response.read() == file.read()
    assert response.content_type == "text/css"


# Text in any language ----------------------------------------------------


def test_text_in_any_language_is_rendered_with_real_glyphs(agreement, mentor, mentee):
    mentee.full_name = "ليلى بن علي"
    mentee.save()

    def confidentiality(agreement):
        agreement.confidentiality.work_matters = f"{ARABIC}. {HEBREW}."
        agreement.confidentiality.personal_matters = f"{CHINESE} {JAPANESE} {KOREAN}"
        agreement.confidentiality.mentor_areas = f"{ACCENTED} {EMOJI}"
        agreement.confidentiality.save()

    def goals(agreement):
        agreement.goals.create(
            owner="mentee",
            description=f"{HEBREW} — {ACCENTED}",
            success_measure=f"{ARABIC} {EMOJI}",
            target_date=START,
        )

    edit(agreement, Section.Kind.CONFIDENTIALITY, by=mentor, change=confidentiality)
    edit(agreement, Section.Kind.GOALS, by=mentee, change=goals)

    pdf = render(agreement)

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page_texts(pdf))
    for words in [ARABIC, HEBREW, CHINESE, JAPANESE, KOREAN, ACCENTED, "ليلى بن علي"]:
        for word in words.split():
            assert word in text, word
    assert "\ufffd" not in text
    assert missing_glyphs(reader) == []
    # With the old two-column grid this content left the first "—" at the foot
    # of page 1 and its label at the top of page 2.
    assert_labels_beside_values(
        page_texts(pdf),
        [
            ("Areas the mentor brings in", ACCENTED),
            ("What the mentor may tell the line manager", "—"),
            ("What the mentee may tell the line manager", "—"),
        ],
    )
    fonts = font_names(reader)
    assert any("DejaVu-Sans" in name for name in fonts), fonts  # Latin, Arabic, Hebrew
    assert any("Noto-Sans-CJK" in name for name in fonts), fonts
    assert any("Noto-Color-Emoji" in name for name in fonts), fonts
    assert len(image_xobjects(reader)) >= 2  # the emoji, drawn as bitmaps


# Template syntax is text ----------------------------------------------------


def test_template_and_html_syntax_typed_into_fields_is_printed_literally(agreement, mentor, mentee):
    typed = [
        "{{ agreement.mentor.password }}",
        "{% debug %}",
        "<script>alert(1)</script>",
        "{{ settings.SECRET_KEY }}",
    ]

    def confidentiality(agreement):
        agreement.confidentiality.work_matters = typed[0]
        agreement.confidentiality.mentor_areas = typed[1]
        agreement.confidentiality.line_manager_by_mentor = typed[2]
        agreement.confidentiality.save()

    def off_limits(agreement):
        agreement.off_limits_topics.create(topic=typed[3], rule=OffLimitsTopic.Rule.MENTEE_RAISES)

    edit(agreement, Section.Kind.CONFIDENTIALITY, by=mentor, change=confidentiality)
    edit(agreement, Section.Kind.OFF_LIMITS, by=mentee, change=off_limits)

    text = " ".join(page_texts(render(agreement)))

    for value in typed:
        assert value in text, value
    assert mentor.password not in text
    assert "md5$" not in text
    assert "sql_queries" not in text  # what {% debug %} would print


def test_long_unbroken_words_wrap_and_keep_every_character(agreement, mentor):
    # ~2,000 characters without a space, no piece repeated, so a lost piece shows.
    digits = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(31))
    word = "https://example.org/" + digits[:1980]

    def change(loaded):
        loaded.goals.create(
            owner="mentee", description=word, success_measure=word[:1500], target_date=START
        )

    demo.write_section(agreement, Section.Kind.TERM, by=mentor, start=START)
    edit(agreement, Section.Kind.GOALS, by=mentor, change=change)
    text = squash("".join(page_texts(render(agreement))))
    # It wraps over pages, so footers interleave: every 20-character piece is there.
    chunks = [word[i : i + 20] for i in range(0, len(word), 20)]
    assert all(chunk in text for chunk in chunks)
