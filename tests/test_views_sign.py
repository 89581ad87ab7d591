import datetime
import hashlib
import json

import pytest
from django.urls import reverse

from agreements import demo
from agreements.models import AUTHENTICATIONS, CONSENT_STATEMENT, Agreement, Origin, Signature
from tests.helpers import PASSWORD, START, assert_unchanged, client_for, fresh


def sign_data(agreement, name, **extra):
    return {
        "full_name": name,
        "consent": "on",
        "password": PASSWORD,
        "content_hash": agreement.content_hash,
        **extra,
    }


def test_sign_page_shows_hash_and_consent_statement(client, ready, mentor):
    client_for(client, mentor)
    response = client.get(reverse("agreements:sign", args=[ready.uuid]))
    assert response.status_code == 200
    assert ready.content_hash in response.text
    assert str(CONSENT_STATEMENT) in response.text


def test_signing_records_name_time_and_hash(client, ready, mentor):
    client_for(client, mentor)
    response = client.post(
        reverse("agreements:sign", args=[ready.uuid]), sign_data(ready, "  maria   MENTOR ")
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.typed_name == "maria MENTOR"
    assert signature.version.content_hash == ready.content_hash
    assert signature.signer == mentor and signature.party == "mentor"


def test_wrong_name_is_refused_with_a_clear_error(client, ready, mentor):
    client_for(client, mentor)
    response = client.post(
        reverse("agreements:sign", args=[ready.uuid]), sign_data(ready, "Someone Else")
    )
    assert response.status_code == 200
    assert "Type your full name exactly as on your account: Maria Mentor." in response.text
    assert not Signature.objects.exists()


def test_consent_must_be_confirmed(client, ready, mentor):
    client_for(client, mentor)
    data = sign_data(ready, "Maria Mentor")
    del data["consent"]
    response = client.post(reverse("agreements:sign", args=[ready.uuid]), data)
    assert "Tick the box to confirm the statement." in response.text
    assert not Signature.objects.exists()


def test_content_changed_while_reading_is_refused(client, ready, mentor):
    client_for(client, mentor)
    response = client.post(
        reverse("agreements:sign", args=[ready.uuid]),
        sign_data(ready, "Maria Mentor", content_hash="f" * 64),
        follow=True,
    )
    assert "The agreement changed while you were reading it." in response.text
    assert not Signature.objects.exists()


def test_sign_before_all_agreed_redirects_with_message(client, agreement, mentor):
    client_for(client, mentor)
    response = client.get(reverse("agreements:sign", args=[agreement.uuid]), follow=True)
    assert "nothing for you to sign" in response.text
    response = client.post(
        reverse("agreements:sign", args=[agreement.uuid]),
        sign_data(fresh(agreement), "Maria Mentor"),
    )
    assert response.status_code == 302
    assert not Signature.objects.exists()


def test_both_sign_and_the_agreement_is_active(client, ready, mentor, mentee):
    client_for(client, mentor).post(
        reverse("agreements:sign", args=[ready.uuid]), sign_data(ready, "Maria Mentor")
    )
    client_for(client, mentee).post(
        reverse("agreements:sign", args=[ready.uuid]), sign_data(ready, "Milo Mentee")
    )
    page = client.get(reverse("agreements:detail", args=[ready.uuid]))
    assert fresh(ready).status == Agreement.Status.ACTIVE
    assert "Version 1 is in force" in page.text
    assert page.text.count(" UTC</li>") == 2


def test_both_parties_are_told_when_a_signature_is_voided(client, ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.write_section(ready, "term", by=mentee, start=START + datetime.timedelta(days=3))
    for user in (mentor, mentee):
        page = client_for(client, user).get(reverse("agreements:detail", args=[ready.uuid]))
        assert "The signature of Maria Mentor" in page.text
        assert "is void: Term and exit was changed by Milo Mentee after signing." in page.text


def test_wrong_password_is_refused_and_nothing_is_signed(client, ready, mentor):
    client_for(client, mentor)
    with assert_unchanged(ready):
        response = client.post(
            reverse("agreements:sign", args=[ready.uuid]),
            sign_data(ready, "Maria Mentor", password="not my password"),
        )
    assert response.status_code == 200
    assert "That is not your password. Nothing was signed." in response.text
    assert not Signature.objects.exists()


def test_signature_evidence_records_how_it_was_made(client, ready, mentor):
    client_for(client, mentor)
    client.post(
        reverse("agreements:sign", args=[ready.uuid]),
        sign_data(ready, "Maria Mentor"),
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.66",  # no trusted proxy: ignored
        HTTP_USER_AGENT="Firefox/140 (test)",
    )
    signature = Signature.objects.get()
    evidence = json.loads(signature.evidence)
    assert evidence["ip"] == "203.0.113.7"
    assert evidence["user_agent"] == "Firefox/140 (test)"
    assert evidence["typed_name"] == "Maria Mentor"
    assert evidence["content_hash"] == ready.content_hash == signature.version.content_hash
    assert evidence["consent_statement"] == CONSENT_STATEMENT
    assert evidence["consent_hash"] == hashlib.sha256(CONSENT_STATEMENT.encode()).hexdigest()
    assert evidence["authentication"] == AUTHENTICATIONS["password"]
    assert evidence["signed_at"] == signature.signed_at.astimezone(datetime.UTC).isoformat()
    assert signature.evidence_hash == hashlib.sha256(signature.evidence.encode()).hexdigest()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.66", "203.0.113.7"),
        # One proxy appends the client's address: the forged entry before it is ignored.
        (1, "198.51.100.66, 192.0.2.10", "192.0.2.10"),
        (2, "198.51.100.66, 192.0.2.10, 10.0.0.2", "192.0.2.10"),
        # Fewer entries than proxies: misconfigured, fall back to the peer address.
        (2, "192.0.2.10", "203.0.113.7"),
        (1, "not-an-address", None),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(
    rf, settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=forwarded)
    assert Origin.of(request).ip == expected


# Signing with a passkey ------------------------------------------------------


def confirmed_with_passkey(client, user, *, seconds_ago=0, **record):
    """The session as allauth leaves it after ``user`` confirmed access with
    a security key (``mfa_reauthenticate_webauthn``) ``seconds_ago``."""
    import time

    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator

    key = Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "Laptop", "credential": {}}
    )
    entry = {"method": "mfa", "type": "webauthn", "id": key.pk, "reauthenticated": True}
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**entry, **record, "at": time.time() - seconds_ago}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def test_a_passkey_just_used_stands_in_for_the_password(client, ready, mentor):
    from agreements.models.signatures import EVIDENCE_FORMAT

    client_for(client, mentor)
    confirmed_with_passkey(client, mentor, seconds_ago=60)
    url = reverse("agreements:sign", args=[ready.uuid])

    page = client.get(url)
    assert 'name="password"' not in page.text
    assert "You confirmed it is you with your passkey" in page.text

    data = sign_data(ready, "Maria Mentor")
    del data["password"]
    assert client.post(url, data).status_code == 302
    evidence = json.loads(Signature.objects.get().evidence)
    assert evidence["authenticated_by"] == "passkey"
    assert evidence["authentication"] == AUTHENTICATIONS["passkey"]
    assert evidence["evidence_format"] == EVIDENCE_FORMAT == "mentorship-signature/3"
    assert evidence["identity_provider"] is None


def test_a_passkey_used_too_long_ago_does_not(client, ready, mentor):
    client_for(client, mentor)
    confirmed_with_passkey(client, mentor, seconds_ago=6 * 60)
    url = reverse("agreements:sign", args=[ready.uuid])
    data = sign_data(ready, "Maria Mentor")
    del data["password"]

    with assert_unchanged(ready):
        response = client.post(url, data)

    assert response.status_code == 200
    assert 'name="password"' in response.text
    assert not Signature.objects.exists()
    # The page offers to confirm again.
    assert reverse("mfa_reauthenticate_webauthn") + f"?next={url}" in response.text


def test_logging_in_with_a_passkey_is_not_confirming_a_signature(client, ready, mentor):
    """Confirming is a step taken to sign; a passkey login minutes ago is not."""
    client_for(client, mentor)
    confirmed_with_passkey(client, mentor, reauthenticated=False, passwordless=True)

    page = client.get(reverse("agreements:sign", args=[ready.uuid]))

    assert 'name="password"' in page.text


def test_a_password_signature_says_so(client, ready, mentor):
    client_for(client, mentor)
    client.post(reverse("agreements:sign", args=[ready.uuid]), sign_data(ready, "Maria Mentor"))

    evidence = json.loads(Signature.objects.get().evidence)
    assert evidence["authenticated_by"] == "password"
    assert evidence["authentication"] == AUTHENTICATIONS["password"]
