"""The negotiation appendix: when both parties tick the box as they sign, the
sealed PDF ends with their comments and proposals, section by section, as
they stood when the version came into force. One tick is not enough; what is
written later never shows; the audit trail keeps the choice, not the words;
the seal stays valid."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from agreements.forms import SignForm
from agreements.models import AgreementVersion, AuditEvent, Signature
from agreements.seal import validate_sealed_pdf
from tests.helpers import client_for, fresh
from tests.test_concurrency import make_client
from tests.test_proposals import proposal_url, propose_location
from tests.test_signed_pdf import sha256, stored
from tests.test_views_sign import sign_data

pytestmark = pytest.mark.django_db

APPENDIX = "Appendix: how we negotiated"
COMMENT = "Could we meet somewhere quieter? The café is loud."
DECLINED_PLACE = "A bench in the park"
DECLINE_RESPONSE = "Too cold in January."
PLACE = "The library, second floor"
WHY = "Quiet, and halfway between our offices."
LATE_COMMENT = "Signed at last: see you on Monday."


# Helpers ---------------------------------------------------------------------


def negotiate(agreement, mentor, mentee):
    """A comment on the schedule, a proposal declined with a reason and a
    proposal accepted: the section is agreed by both again, ready to sign."""
    fresh(agreement).comment_on("schedule", by=mentee, text=COMMENT)
    declined = propose_location(agreement, by=mentor, location=DECLINED_PLACE)
    response = make_client(mentee).post(
        proposal_url(agreement, declined, "decline"), {"response": DECLINE_RESPONSE}
    )
    assert response.status_code == 302
    accepted = propose_location(agreement, by=mentee, location=PLACE, reason=WHY)
    assert make_client(mentor).post(proposal_url(agreement, accepted, "accept")).status_code == 302
    assert fresh(agreement).awaiting_signatures


def sign_url(agreement):
    return reverse("agreements:sign", args=[agreement.uuid])


def sign(client, agreement, user, *, append):
    """``user`` signs through the sign page, ticking the appendix box or not."""
    agreement = fresh(agreement)
    extra = {"with_negotiation": "on"} if append else {}
    response = client_for(client, user).post(
        sign_url(agreement), sign_data(agreement, user.full_name, **extra)
    )
    assert response.status_code == 302
    return Signature.objects.get(agreement=agreement, signer=user, voided_at__isnull=True)


def sign_both(client, agreement, capture, *, mentor_appends, mentee_appends):
    """Both sign through the page; the commit callbacks (render, seal) run."""
    sign(client, agreement, agreement.mentor, append=mentor_appends)
    with capture(execute=True):
        sign(client, agreement, agreement.mentee, append=mentee_appends)
    return AgreementVersion.objects.get(pk=fresh(agreement).version_in_force.pk)


def pdf_text(pdf):
    """The text of every page, its lines joined by single spaces."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def appendix_of(pdf):
    text = pdf_text(pdf)
    assert APPENDIX in text
    return text[text.index(APPENDIX) :]


@pytest.fixture
def negotiated(ready, mentor, mentee):
    negotiate(ready, mentor, mentee)
    return fresh(ready)


# The sign page ---------------------------------------------------------------


def test_the_box_is_unticked_until_ticked_and_says_who_sees_it(client, ready, mentor, rf):
    request = rf.get("/")
    request.user, request.session = mentor, {}
    form = SignForm(request=request, content=ready.working_copy())
    assert form["with_negotiation"].initial is False
    page = client_for(client, mentor).get(sign_url(ready)).text
    assert "Append our discussions and proposals to the signed PDF" in page
    assert 'name="with_negotiation"' in page
    assert 'name="with_negotiation" checked' not in page
    assert "only if both of you tick this box" in page
    assert "admins never see them." in page


def test_signing_without_the_box_keeps_no_appendix(client, ready, mentor):
    signature = sign(client, ready, mentor, append=False)

    assert signature.with_negotiation is False
    assert signature.evidence_data["with_negotiation"] is False


def test_the_second_signer_reads_what_the_first_chose(client, ready, mentor, mentee):
    sign(client, ready, mentor, append=True)

    page = client_for(client, mentee).get(sign_url(ready)).text

    assert "<bdi>Maria Mentor</bdi> chose to append your discussions and proposals" in page


def test_the_second_signer_reads_that_the_first_did_not_append(client, ready, mentor, mentee):
    sign(client, ready, mentor, append=False)

    page = client_for(client, mentee).get(sign_url(ready)).text

    assert "<bdi>Maria Mentor</bdi> signed without appending" in page
    assert "chose to append" not in page
    # The box could change nothing: it is not offered, and a forged tick is ignored.
    assert 'name="with_negotiation"' not in page
    assert sign(client, ready, mentee, append=True).with_negotiation is False


def test_the_sign_page_costs_no_more_for_the_first_signature(
    client, ready, mentor, mentee, django_assert_max_num_queries
):
    client_for(client, mentee)
    with CaptureQueriesContext(connection) as before:
        assert client.get(sign_url(ready)).status_code == 200
    # Counted now: the next request clears the connection's query log.
    first = len(before)
    assert first <= 15
    sign(client, ready, mentor, append=True)
    client_for(client, mentee)
    with django_assert_max_num_queries(first):
        assert client.get(sign_url(ready)).status_code == 200


def test_the_trail_records_the_choice_and_none_of_the_words(
    client, negotiated, mentor, mentee, django_capture_on_commit_callbacks
):
    sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=True,
        mentee_appends=False,
    )

    signed = list(
        AuditEvent.objects.filter(agreement=negotiated, kind=AuditEvent.Kind.SIGNED).order_by(
            "sequence"
        )
    )
    assert [event.details["with_negotiation"] for event in signed] == [True, False]
    for event in AuditEvent.objects.filter(agreement=negotiated):
        for words in (COMMENT, DECLINE_RESPONSE, WHY):
            assert words not in str(event.details)


# The sealed PDF --------------------------------------------------------------


def test_both_ticks_append_the_negotiation_after_the_certificate(
    client, negotiated, django_capture_on_commit_callbacks
):
    version = sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=True,
        mentee_appends=True,
    )
    pdf = stored(version.pdf)

    appendix = appendix_of(pdf)
    assert appendix.index("2. Meeting schedule") < appendix.index(COMMENT)
    assert "Milo Mentee commented" in appendix
    # The declined proposal: who, what they were told, and no changes listed.
    assert "Maria Mentor proposed a change" in appendix
    assert "Declined by Milo Mentee" in appendix
    assert DECLINE_RESPONSE in appendix
    # The accepted one: why, who accepted it, and what it changed.
    assert WHY in appendix
    assert "Accepted by Maria Mentor" in appendix
    assert PLACE in appendix
    assert appendix.index(COMMENT) < appendix.index(DECLINE_RESPONSE) < appendix.index(WHY)
    # Only the section they discussed.
    assert "1. Contact" not in appendix
    text = pdf_text(pdf)
    assert text.index("Completion certificate") < text.index(APPENDIX)
    assert "not part of the signed content" in text
    # The seal covers the file as it is, appendix included.
    assert validate_sealed_pdf(pdf).ok
    assert version.pdf_sha256 == sha256(pdf)


def test_one_tick_is_not_enough(client, negotiated, django_capture_on_commit_callbacks):
    version = sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=True,
        mentee_appends=False,
    )
    text = pdf_text(stored(version.pdf))

    assert APPENDIX not in text
    for words in (COMMENT, DECLINE_RESPONSE, WHY):
        assert words not in text


def test_what_is_written_after_signing_stays_out_and_the_bytes_stay_the_same(
    client, negotiated, mentee, django_capture_on_commit_callbacks
):
    from agreements import pdf as rendering

    version = sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=True,
        mentee_appends=True,
    )
    before = rendering.negotiation_appendix(version, _valid(version))

    fresh(negotiated).comment_on("schedule", by=mentee, text=LATE_COMMENT)

    assert LATE_COMMENT not in appendix_of(stored(version.pdf))
    after = rendering.negotiation_appendix(version, _valid(version))
    assert [(n, str(label), [e.at for e in entries]) for n, label, entries in after] == [
        (n, str(label), [e.at for e in entries]) for n, label, entries in before
    ]


def test_a_pair_who_never_discussed_gets_one_sentence(
    client, ready, django_capture_on_commit_callbacks
):
    version = sign_both(
        client, ready, django_capture_on_commit_callbacks, mentor_appends=True, mentee_appends=True
    )

    appendix = appendix_of(stored(version.pdf))

    assert "Neither party commented on a section or proposed a change before signing." in appendix


def test_the_version_page_says_the_pdf_has_the_appendix(
    client, negotiated, mentor, django_capture_on_commit_callbacks
):
    version = sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=True,
        mentee_appends=True,
    )
    url = reverse("agreements:version_detail", args=[negotiated.uuid, version.number])

    page = client_for(client, mentor).get(url).text

    assert "Signed PDF, with the negotiation appendix" in page


def test_the_version_page_says_nothing_of_an_appendix_not_chosen(
    client, negotiated, mentor, django_capture_on_commit_callbacks
):
    version = sign_both(
        client,
        negotiated,
        django_capture_on_commit_callbacks,
        mentor_appends=False,
        mentee_appends=True,
    )
    url = reverse("agreements:version_detail", args=[negotiated.uuid, version.number])

    page = client_for(client, mentor).get(url).text

    assert "negotiation appendix" not in page


def _valid(version):
    return sorted(version.signatures.filter(voided_at__isnull=True), key=lambda s: s.signed_at)


# In a browser ------------------------------------------------------------------
