import pytest
from django.urls import reverse

from agreements import demo
from agreements.models import Section
from tests.helpers import client_for

SECRET = "Quarterly review went badly"


def agreement_urls(agreement):
    uuid = agreement.uuid
    urls = [
        reverse("agreements:detail", args=[uuid]),
        reverse("agreements:sign", args=[uuid]),
        reverse("agreements:pdf", args=[uuid]),
    ]
    for kind in Section.Kind.values:
        urls.append(reverse("agreements:section_edit", args=[uuid, kind]))
        urls.append(reverse("agreements:section_history", args=[uuid, kind]))
    return urls


@pytest.fixture
def written(agreement, mentor):
    demo.write_all(agreement, by=mentor)
    confidentiality = agreement.confidentiality
    confidentiality.work_matters = SECRET
    confidentiality.save()
    return agreement


def test_anonymous_is_sent_to_login_everywhere(client, agreement, program):
    urls = [
        "/",
        *agreement_urls(agreement),
        reverse("agreements:program", args=[program.uuid]),
        reverse("agreements:pairing_new", args=[program.uuid]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("persona", ["outsider", "program_admin", "other_admin"])
def test_non_party_gets_404_for_agreement_edit_forms_and_pdf(
    request, client, agreement, other_program, persona
):
    client_for(client, request.getfixturevalue(persona))
    for url in agreement_urls(agreement):
        assert client.get(url).status_code == 404, url
    for kind in Section.Kind.values:
        url = reverse("agreements:section_agree", args=[agreement.uuid, kind])
        assert client.post(url).status_code == 404, url
        edit = reverse("agreements:section_edit", args=[agreement.uuid, kind])
        assert client.post(edit, {"revision": 0}).status_code == 404, edit


@pytest.mark.parametrize("persona", ["mentor", "mentee"])
def test_both_parties_see_the_agreement_and_its_forms(request, client, written, persona):
    client_for(client, request.getfixturevalue(persona))
    for url in agreement_urls(written):
        if url.endswith("/sign/"):
            continue  # nothing to sign yet: redirects, covered in test_views_sign
        # The draft PDF is being prepared by the worker: test_pdf covers it.
        expected = 202 if url.endswith("/pdf/") else 200
        assert client.get(url).status_code == expected, url
    assert SECRET in client.get(reverse("agreements:detail", args=[written.uuid])).text


def test_program_admin_sees_the_pairing_but_no_content(client, written, program, program_admin):
    client_for(client, program_admin)
    response = client.get(reverse("agreements:program", args=[program.uuid]))
    assert response.status_code == 200
    assert "Maria Mentor" in response.text and "Milo Mentee" in response.text
    assert "Draft" in response.text
    for text in (SECRET, "Lead a project", "Salary negotiations", "Teams, link"):
        assert text not in response.text
    # With no agreement of their own, home is the program's dashboard.
    home = client.get("/", follow=True)
    assert home.redirect_chain == [(reverse("agreements:program", args=[program.uuid]), 302)]
    assert SECRET not in home.text
    assert "Test Programme" in home.text


def test_admin_of_another_program_gets_404_for_its_pages(client, program, other_admin):
    client_for(client, other_admin)
    assert client.get(reverse("agreements:program", args=[program.uuid])).status_code == 404
    new = reverse("agreements:pairing_new", args=[program.uuid])
    assert client.get(new).status_code == 404
    assert client.post(new, {}).status_code == 404


def test_party_is_not_program_admin(client, program, mentor, agreement):
    client_for(client, mentor)
    assert client.get(reverse("agreements:program", args=[program.uuid])).status_code == 404


def test_unknown_section_kind_is_404(client, agreement, mentor):
    client_for(client, mentor)
    assert client.get(f"/agreements/{agreement.uuid}/sections/status/edit/").status_code == 404


def test_home_lists_my_agreements_with_what_waits_for_me(client, agreement, mentor, mentee):
    client_for(client, mentee)
    response = client.get("/")
    assert "Your mentor" in response.text
    assert "Maria Mentor" in response.text
    assert f"Agree {len(Section.Kind)} sections" in response.text
    assert f"Waiting for Maria Mentor to agree {len(Section.Kind)} sections" in response.text


def test_superuser_has_the_django_admin(client, mentor):
    mentor.is_staff = mentor.is_superuser = True
    mentor.save()
    client_for(client, mentor)
    assert client.get("/admin/agreements/agreement/").status_code == 200
    assert client.get("/admin/agreements/user/").status_code == 200


def test_non_staff_cannot_use_the_django_admin(client, mentor):
    client_for(client, mentor)
    assert client.get("/admin/").status_code == 302


def test_django_admin_shows_no_content_and_cannot_delete(client, written, mentor):
    mentor.is_staff = mentor.is_superuser = True
    mentor.save()
    client_for(client, mentor)
    change = client.get(f"/admin/agreements/agreement/{written.pk}/change/")
    assert change.status_code == 200
    assert client.get(f"/admin/agreements/agreement/{written.pk}/delete/").status_code == 403
    listing = client.get("/admin/agreements/agreement/")
    for page in (change, listing):
        for text in (SECRET, "Lead a project", "Salary negotiations", "Teams, link"):
            assert text not in page.text


def test_a_message_names_the_section_it_is_about(client, agreement, mentor, mentee):
    """The confirmation and the refusal of a move on a section are shown in
    that section's card (app.js moves them there by ``data-for``)."""
    demo.write_all(agreement, by=mentee)
    client_for(client, mentor)
    url = reverse("agreements:section_agree", args=[agreement.uuid, "term"])
    response = client.post(url, {"revision": 1})
    assert response["Location"].endswith("#section-term")
    page = client.get(response["Location"])
    assert 'data-for="section-term">You agreed to “Term and exit”.' in page.text

    response = client.post(url, {"revision": 0}, follow=True)
    assert 'class="alert alert-danger" role="alert" tabindex="-1" data-message' in response.text
    assert 'data-for="section-term"' in response.text
