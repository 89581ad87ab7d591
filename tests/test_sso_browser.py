"""Single sign-on in real headless Chromium: the login page's button takes
the person to the OpenID Connect provider (tests/sso.py), they sign in and
allow the app there, and land back in the app logged in."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.sso import oidc_provider  # noqa: F401 (fixture)
from tests.test_browser import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "University of Example"
# The mentee at the provider (tests/test_sso_oidc.py signs the mentor in:
# no person is added to a provider twice).
MILO = ("mentee@example.com", "milo-at-the-university", "Milo Mentee")


@pytest.fixture(scope="module")
def milo_at_provider(oidc_provider):  # noqa: F811
    oidc_provider.add_person(*MILO)


@pytest.fixture
def university(live_server, oidc_provider, milo_at_provider):  # noqa: F811
    """The provider as a superuser connects it, with the app as its client:
    a new one each time, as the live server's port is the callback's."""
    callback = live_server.url + reverse(
        "openid_connect_callback", kwargs={"provider_id": "university"}
    )
    client_id, secret = oidc_provider.add_client(callback)
    return oidc_provider.connect(client_id, secret, name=NAME)


def arrive(person, url):
    """Wait for the browser to reach ``url`` (a glob); if it does not, say
    where it stayed and what failed on the way (a refused request, a
    Content-Security-Policy report), not just that the wait timed out."""
    try:
        person.page.wait_for_url(url)
    except PlaywrightTimeoutError:
        pytest.fail(f"Stayed at {person.page.url} instead of {url}; failures: {person.failures}")


def test_logging_in_with_the_organisation_in_the_browser(
    chromium,
    live_server,
    oidc_provider,  # noqa: F811
    university,
    mentee,
):
    person = Person(chromium, live_server, mentee, party="Mentee")
    page = person.page
    page.goto(live_server.url + reverse("login"))

    page.get_by_role("button", name=f"Log in with {NAME}").click()
    arrive(person, f"{oidc_provider.issuer}/accounts/login/**")
    page.locator("input[name=login]").fill(MILO[0])
    page.locator("input[name=password]").fill(MILO[1])
    page.locator("input[name=password]").press("Enter")
    # A client new to the provider: it asks the person to allow it once.
    arrive(person, f"{oidc_provider.issuer}/**authorize**")
    page.get_by_role("button", name="Authorize").click()

    arrive(person, live_server.url + reverse("agreements:home"))
    expect(page.get_by_role("heading", name="My agreements")).to_be_visible()
    expect(page.get_by_role("link", name=mentee.full_name)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert SocialAccount.objects.get(provider="university").user == mentee
    assert person.failures == []
