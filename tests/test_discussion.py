"""A section's discussion: the pair comment on a section, privately; the card
shows what is new to each of them; the trail records that they wrote, never
what."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agreements.models import Agreement, AuditEvent, Effect, SectionComment, ThreadRead
from tests.helpers import assert_unchanged, client_for, fresh, make_active

pytestmark = pytest.mark.django_db


def discussion_url(agreement, kind="goals"):
    return reverse("agreements:section_discussion", args=[agreement.uuid, kind])


def detail_url(agreement):
    return reverse("agreements:detail", args=[agreement.uuid])


def card(page, kind):
    """The HTML of one section's card on the agreement page."""
    start = page.index(f'id="section-{kind}"')
    return page[start : page.index("</section>", start)]


def test_a_party_comments_and_the_trail_records_that_not_what(client, agreement, mentor):
    client_for(client, mentor)
    response = client.post(discussion_url(agreement), {"text": "Could we aim for May?"})

    assert response.status_code == 302
    assert response.url == discussion_url(agreement) + "#comment-form"
    comment = SectionComment.objects.get()
    assert (comment.section.kind, comment.author, comment.text) == (
        "goals",
        mentor,
        "Could we aim for May?",
    )
    event = agreement.audit_events.last()
    assert event.kind == AuditEvent.Kind.SECTION_COMMENTED
    assert event.actor == mentor
    assert event.details == {"section": "goals", "comment": comment.pk}
    page = client.get(discussion_url(agreement)).text
    assert "Your comment is posted." in page
    assert "Could we aim for May?" in page
    trail = client.get(reverse("agreements:trail", args=[agreement.uuid])).text
    assert "Comment on a section" in trail
    assert "Could we aim for May?" not in trail


def test_the_other_party_sees_what_is_new_until_they_read_it(client, agreement, mentor, mentee):
    agreement.comment_on("goals", by=mentor, text="First thought")
    agreement.comment_on("goals", by=mentor, text="Second thought")
    client_for(client, mentee)

    goals = card(client.get(detail_url(agreement)).text, "goals")
    assert "Discussion: 2 comments" in goals
    assert "2 new" in goals
    assert "Latest, from <bdi>Maria Mentor</bdi>:" in goals
    assert '“<bdi class="prose">Second thought</bdi>”' in goals
    assert "Discuss this section" in card(client.get(detail_url(agreement)).text, "schedule")

    client.get(discussion_url(agreement))
    assert "new</span>" not in card(client.get(detail_url(agreement)).text, "goals")

    # A reply of theirs is not new to them; a later comment of the mentor's is.
    fresh(agreement).comment_on("goals", by=mentee, text="Agreed")
    assert "new</span>" not in card(client.get(detail_url(agreement)).text, "goals")
    fresh(agreement).comment_on("goals", by=mentor, text="Good")
    assert "1 new" in card(client.get(detail_url(agreement)).text, "goals")


def test_the_author_never_sees_their_own_comments_as_new(client, agreement, mentor):
    """Even written after they last read the discussion (from a second device,
    say), their own comments are not new to them."""
    section = agreement.sections.get(kind="goals")
    ThreadRead.mark(section, mentor, timezone.now() - datetime.timedelta(days=1))
    SectionComment.objects.create(section=section, author=mentor, text="A note to both of us")
    client_for(client, mentor)
    goals = card(client.get(detail_url(agreement)).text, "goals")
    assert "Discussion: 1 comment" in goals
    assert "new</span>" not in goals


def test_a_comment_of_someone_since_removed_is_new_to_both(client, agreement, mentor, mentee):
    SectionComment.objects.create(
        section=agreement.sections.get(kind="goals"), author=None, text="From before"
    )
    for person in (mentor, mentee):
        client_for(client, person)
        goals = card(client.get(detail_url(agreement)).text, "goals")
        assert "1 new" in goals
        assert "Latest, from <bdi>a former user</bdi>:" in goals


def test_what_is_new_is_counted_per_section(client, agreement, mentor, mentee):
    agreement.comment_on("goals", by=mentor, text="On the goals")
    agreement.comment_on("term", by=mentor, text="On the term")
    client_for(client, mentee)
    client.get(discussion_url(agreement, "goals"))

    page = client.get(detail_url(agreement)).text
    assert "new</span>" not in card(page, "goals")
    assert "1 new" in card(page, "term")
    assert "Discuss this section" in card(page, "schedule")


def test_reading_marks_what_was_shown_not_what_came_after(client, agreement, mentor, mentee):
    """A comment written at the same moment as the page was read stays new."""
    first = agreement.comment_on("goals", by=mentor, text="Shown")
    client_for(client, mentee)
    client.get(discussion_url(agreement))
    assert ThreadRead.objects.get(reader=mentee).read_at == first.written_at
    SectionComment.objects.create(
        section=first.section,
        author=mentor,
        text="Written while the page was on its way",
        written_at=first.written_at + datetime.timedelta(microseconds=1),
    )
    assert "1 new" in card(client.get(detail_url(agreement)).text, "goals")


@pytest.mark.parametrize("role", ["outsider", "program_admin"])
def test_anyone_but_the_pair_gets_404_and_changes_nothing(client, agreement, request, role):
    agreement.comment_on("goals", by=agreement.mentor, text="Private to us")
    client_for(client, request.getfixturevalue(role))
    with assert_unchanged(agreement):
        assert client.get(discussion_url(agreement)).status_code == 404
        assert client.post(discussion_url(agreement), {"text": "Hello"}).status_code == 404
    assert not ThreadRead.objects.exclude(reader=agreement.mentor).exists()


def test_a_discussion_needs_a_signed_in_party(client, agreement):
    response = client.get(discussion_url(agreement))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_post_without_its_csrf_token_is_refused(agreement, mentor):
    client = client_for(Client(enforce_csrf_checks=True), mentor)
    with assert_unchanged(agreement):
        response = client.post(discussion_url(agreement), {"text": "Hello"})
    assert response.status_code == 403


def test_an_unknown_section_is_404(client, agreement, mentor):
    client_for(client, mentor)
    url = f"/agreements/{agreement.uuid}/sections/status/discussion/"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This field is required."),
        ("   \n  ", "This field is required."),
        ("Null\x00byte", "Null characters are not allowed."),
        ("x" * 100_000, "Ensure this value has at most 2000 characters"),
        ("\n".join(["line"] * 51), "Keep this to at most 50 lines (it has 51)"),
    ],
)
def test_bad_text_is_a_clear_form_error_and_changes_nothing(
    client, agreement, mentor, text, message
):
    client_for(client, mentor)
    with assert_unchanged(agreement):
        response = client.post(discussion_url(agreement), {"text": text})
    assert response.status_code == 200
    assert message in response.text


def test_bytes_that_are_not_utf8_become_replacement_characters(client, agreement, mentor):
    """A lone surrogate cannot be sent as UTF-8: a browser sends invalid
    bytes, which Django reads as U+FFFD."""
    client_for(client, mentor)
    response = client.post(
        discussion_url(agreement),
        b"text=A+%ED%A0%80+surrogate",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert SectionComment.objects.get().text == "A \ufffd\ufffd\ufffd surrogate"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        "{{ agreement.mentor.password }} {% debug %}",
        "Emoji 🎉 and مرحبا بالعالم and \u202eevil\u202c bidi",
    ],
)
def test_markup_and_any_script_are_kept_and_shown_literally(client, agreement, mentor, text):
    client_for(client, mentor)
    assert client.post(discussion_url(agreement), {"text": text}).status_code == 302
    assert SectionComment.objects.get().text == text
    pages = [client.get(url).text for url in (discussion_url(agreement), detail_url(agreement))]
    for page in pages:
        assert "<script>alert" not in page
        assert escape(text) in page


def test_an_ended_agreement_keeps_its_discussions_readable_not_writable(client, agreement, mentor):
    agreement.comment_on("goals", by=mentor, text="Before the end")
    active = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=30))
    active.give_notice(by=active.mentee)
    Agreement.objects.filter(pk=active.pk).update(ends_on=timezone.localdate())
    fresh(active).end_if_due(timezone.localdate())
    client_for(client, mentor)

    page = client.get(discussion_url(agreement)).text
    assert "Before the end" in page
    assert "its discussions can be read, not added to" in page
    assert 'name="text"' not in page
    with assert_unchanged(agreement):
        response = client.post(discussion_url(agreement), {"text": "After the end"})
    assert response.status_code == 200
    assert "The agreement has ended: its discussions can be read, not added to." in response.text
    # Said once, at the top: there is no text field to point at.
    assert 'href="#id_text"' not in response.text


def test_commenting_sends_no_email_and_promises_nothing(client, agreement, mentor, mailoutbox):
    client_for(client, mentor)
    promised = Effect.objects.count()
    client.post(discussion_url(agreement), {"text": "Just between us"})
    assert mailoutbox == []
    assert Effect.objects.count() == promised


@pytest.mark.parametrize("comments", [1, 100])
def test_the_pages_cost_the_same_whatever_the_number_of_comments(
    client, agreement, mentor, mentee, comments, django_assert_num_queries
):
    SectionComment.objects.bulk_create(
        SectionComment(
            section=agreement.sections.get(kind="goals"),
            author=mentor if number % 2 else mentee,
            text=f"Comment {number}",
        )
        for number in range(comments)
    )
    client_for(client, mentee)
    client.get(detail_url(agreement))  # sessions and caches warm
    with django_assert_num_queries(DISCUSSION_QUERIES):
        client.get(discussion_url(agreement))
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(detail_url(agreement))


# Measured once; the parametrised test above proves they hold at 1 and 100.
# The discussion page reads the sharing consents too (is the thread shared?).
# The agreement page reads its three one-to-one sections with the agreement
# (``with_working_copy``) and the discussions in four small queries
# (``discussions_for``). This agreement is a draft: it has no records since
# signing (check-ins, closing notes, meetings, pauses, survey answers), and
# its page does not look for them (``record_lookups``; test_living counts
# those of an agreement in force).
DISCUSSION_QUERIES = 8
DETAIL_QUERIES = 16
