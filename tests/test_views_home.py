"""Where each person lands: their agreements, their program's dashboard, or both."""

from django.urls import reverse

from tests.helpers import client_for, make_agreement, make_program, make_user

HOME = reverse("agreements:home")


def test_an_admin_of_one_program_lands_on_its_dashboard(client, program, program_admin):
    client_for(client, program_admin)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:program", args=[program.uuid])


def test_an_admin_of_several_programs_lands_on_the_list_of_them(client, program, program_admin):
    second = make_program("Second Programme", program_admin)
    client_for(client, program_admin)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:program_list")
    listing = client.get(response["Location"]).text
    for each in (program, second):
        assert reverse("agreements:program", args=[each.uuid]) in listing


def test_an_admin_with_an_agreement_of_their_own_sees_their_programs_first(
    client, program, program_admin, mentor, django_assert_max_num_queries
):
    make_agreement(program, mentor, program_admin, program_admin)
    client_for(client, program_admin)
    # As for a pair's (test_views_programs), with the programs they run.
    with django_assert_max_num_queries(15):
        response = client.get(HOME)
    assert response.status_code == 200
    page = response.text
    dashboard = f'href="{reverse("agreements:program", args=[program.uuid])}"'
    # The programs come first, as a button to the dashboard, then the agreement.
    assert page.index("Programs you run") < page.index(dashboard) < page.index("Maria Mentor")
    assert page.index(dashboard) < page.index("Open the agreement")
    assert 'class="btn btn-primary"' in page[page.index(dashboard) - 40 : page.index(dashboard)]


def test_a_pair_without_programs_sees_only_their_agreements(client, agreement, mentor):
    client_for(client, mentor)
    page = client.get(HOME).text
    assert "Open the agreement" in page
    assert "Programs you run" not in page


def test_someone_with_neither_sees_what_to_expect(client, db):
    client_for(client, make_user("new@example.com", "Nina New"))
    response = client.get(HOME)
    assert response.status_code == 200
    assert "You have no mentoring agreements yet." in response.text
    assert f'href="{reverse("how_it_works")}">How this works</a>' in response.text
    assert "Programs you run" not in response.text
