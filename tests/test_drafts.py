"""Draft PDFs leave the request: the worker renders each draft once, kept by
the hash of its HTML, and the page says it is being prepared until then."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from agreements import demo, pdf, tasks
from agreements.models import Agreement, AuditEvent, Effect
from tests.helpers import START, client_for, fresh

Kind = AuditEvent.Kind


def url(agreement):
    return reverse("agreements:pdf", args=[agreement.uuid])


def stored_drafts(agreement):
    _dirs, files = default_storage.listdir(f"drafts/{agreement.uuid}")
    return sorted(files)


@pytest.fixture
def renders(monkeypatch):
    """Each WeasyPrint rendering of a draft (the real renderer still runs)."""
    calls = []
    original = pdf.draft_pdf

    def counting(html):
        calls.append(html)
        return original(html)

    monkeypatch.setattr(pdf, "draft_pdf", counting)
    return calls


@pytest.fixture
def queued(settings):
    """Promised effects stay queued for a worker, as in production."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


def test_the_request_never_renders_the_pdf(
    client, agreement, mentor, renders, queued, django_assert_max_num_queries
):
    client_for(client, mentor)

    # 14 to read the agreement (whether it is a draft, then its working copy),
    # the rest to promise its rendering, and the menu's count of what waits
    # for them on the "being prepared" page.
    with django_assert_max_num_queries(22):
        response = client.get(url(agreement))

    assert response.status_code == 202
    assert renders == []
    (effect,) = Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT)
    assert effect.state == Effect.State.PENDING
    assert not agreement.audit_events.filter(kind=Kind.PDF_DOWNLOADED).exists()
    # Asked again before the worker got to it: still one promise, not two.
    assert client.get(url(agreement)).status_code == 202
    assert Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT).count() == 1

    assert tasks.run_effect(effect.pk) == "done"
    response = client.get(url(agreement))
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert len(renders) == 1


def test_the_same_draft_is_rendered_once_however_often_it_is_asked_for(
    client, agreement, mentor, mentee, renders, django_capture_on_commit_callbacks
):
    client_for(client, mentor)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url(agreement)).status_code == 202
    for user in (mentor, mentee, mentor):
        client_for(client, user)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.get(url(agreement))["Content-Type"] == "application/pdf"

    assert len(renders) == 1
    assert len(stored_drafts(agreement)) == 1
    assert agreement.audit_events.filter(kind=Kind.PDF_DOWNLOADED).count() == 3


def test_an_edit_makes_a_new_draft_and_the_old_one_goes(
    client, agreement, mentor, renders, django_capture_on_commit_callbacks
):
    client_for(client, mentor)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url(agreement))
    (before,) = stored_drafts(agreement)

    demo.write_all(fresh(agreement), by=mentor, start=START)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url(agreement)).status_code == 202
    response = client.get(url(agreement))

    assert response["Content-Type"] == "application/pdf"
    text = b"".join(response.streaming_content)
    assert text.startswith(b"%PDF-")
    (after,) = stored_drafts(agreement)
    assert after != before
    assert len(renders) == 2


def test_a_draft_changed_before_the_worker_got_to_it_is_rendered_as_it_is_now(
    client, agreement, mentor, renders, queued
):
    client_for(client, mentor)
    client.get(url(agreement))
    (stale,) = Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT)
    # The pair changed the agreement before the worker got to the draft.
    demo.write_all(fresh(agreement), by=mentor, start=START)

    assert tasks.run_effect(stale.pk) == "done"
    assert renders == []  # nobody wants the old draft any more

    assert client.get(url(agreement)).status_code == 202
    current = Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT).exclude(pk=stale.pk).get()
    assert tasks.run_effect(current.pk) == "done"
    assert client.get(url(agreement))["Content-Type"] == "application/pdf"
    assert len(renders) == 1


def test_a_draft_whose_file_is_gone_is_rendered_again(
    client, agreement, mentor, renders, django_capture_on_commit_callbacks
):
    """Its rendering was done once, but the file went (drafts are not in a
    backup, or a newer draft replaced it): asking again renders it again,
    instead of a page that waits for ever."""
    client_for(client, mentor)

    def download():
        with django_capture_on_commit_callbacks(execute=True):
            assert client.get(url(agreement)).status_code == 202
        assert client.get(url(agreement))["Content-Type"] == "application/pdf"

    download()
    (name,) = stored_drafts(agreement)
    default_storage.delete(f"drafts/{agreement.uuid}/{name}")

    download()

    assert len(renders) == 2
    assert stored_drafts(agreement) == [name]
    assert Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT).count() == 1


def test_a_draft_that_keeps_failing_says_so_instead_of_waiting_forever(
    client, agreement, mentor, monkeypatch, settings, queued
):
    settings.EFFECT_MAX_ATTEMPTS = 2

    def broken(html):
        raise OSError("No space left on device")

    monkeypatch.setattr(pdf, "draft_pdf", broken)
    client_for(client, mentor)
    client.get(url(agreement))
    (effect,) = Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT)

    assert tasks.run_effect(effect.pk) == "will retry"
    page = client.get(url(agreement))
    assert "taking longer than usual" in page.text
    assert 'http-equiv="refresh"' in page.text

    assert tasks.run_effect(effect.pk) == "failed"
    page = client.get(url(agreement))
    assert page.status_code == 202
    assert "could not be prepared" in page.text
    assert 'http-equiv="refresh"' not in page.text
    assert not default_storage.exists(f"drafts/{agreement.uuid}")


def test_every_reader_gets_the_one_draft_in_the_agreements_language(
    client, agreement, mentor, mentee, renders, queued
):
    """A French and a German reader of a Spanish agreement share its one
    draft, rendered once, in Spanish, by a worker that has no language."""
    Agreement.objects.filter(pk=agreement.pk).update(language="es")
    readers = ((mentor, "fr"), (mentee, "de"))
    for person, language in readers:
        client_for(client, person)
        response = client.get(url(agreement), headers={"accept-language": language})
        assert response.status_code == 202
    with translation.override(None):
        for effect in Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT):
            assert tasks.run_effect(effect.pk) == "done"
    assert len(stored_drafts(agreement)) == 1
    for person, language in readers:
        client_for(client, person)
        response = client.get(url(agreement), headers={"accept-language": language})
        assert response["Content-Type"] == "application/pdf"
    assert len(renders) == 1
    assert '<html lang="es"' in renders[0]
