"""A real OpenID Connect provider for the sign-on tests: django-allauth's own
IdP (tests/identity_provider), run as its own process on a free local port,
with its own SQLite database and signing key in a temporary folder.

    def test_sign_on(oidc_provider):
        oidc_provider.add_person("ada@example.com", "pw", "Ada Lovelace")
        client_id, secret = oidc_provider.add_client(
            "http://testserver/accounts/oidc/idp/login/callback/"
        )
        # the app's SocialApp (provider "openid_connect", provider_id "idp"):
        #   settings={"server_url": oidc_provider.issuer, "oauth_pkce_enabled": True}
        callback = sign_in_at_provider(authorize_url, "ada@example.com", "pw")

The provider requires PKCE (S256) of every client (allauth's client sends it
only with ``oauth_pkce_enabled``), honours ``prompt=login`` and ``max_age``,
and its ID tokens carry ``auth_time`` (see tests/identity_provider/urls.py).
"""

import html.parser
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from secrets import token_hex
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = Path(__file__).resolve().parent.parent
STARTUP_DEADLINE = 60
SCOPES = ["openid", "profile", "email"]

# Run inside the provider (``django shell -c``), reading their JSON from stdin.
ADD_PERSON = """
import json, sys
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
p = json.load(sys.stdin)
first_name, _, last_name = p["name"].partition(" ")
user = get_user_model().objects.create_user(
    username=p["email"], email=p["email"], password=p["password"],
    first_name=first_name, last_name=last_name,
)
EmailAddress.objects.create(user=user, email=p["email"], primary=True, verified=p["verified"])
"""
ADD_CLIENT = """
import json, sys
from allauth.idp.oidc.models import Client
p = json.load(sys.stdin)
client = Client(id=p["id"], name=p["name"], type=Client.Type.CONFIDENTIAL,
                skip_consent=p["skip_consent"])
client.set_secret(p["secret"])
client.set_redirect_uris(p["redirect_uris"])
client.set_scopes(p["scopes"])
client.set_grant_types(["authorization_code"])
client.set_response_types(["code"])
client.save()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_signing_key(path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)


class OIDCProvider:
    """A running provider. ``issuer`` is its base URL: the app's
    ``server_url``, and the ``iss`` of its ID tokens."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.log_path = self.workdir / "server.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.identity_provider.settings",
            "IDP_DATABASE_PATH": str(self.workdir / "idp.sqlite3"),
            "IDP_PRIVATE_KEY_PATH": str(self.workdir / "idp_key.pem"),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])
            ),
        }
        self.process = None

    def django(self, *args, stdin=None):
        """Run a management command of the provider; fail with its output."""
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "django", *args],
            env=self.env,
            cwd=BASE_DIR,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode:
            raise RuntimeError(f"provider: django {args[0]} failed:\n{result.stderr}")
        return result.stdout

    def start(self):
        write_signing_key(Path(self.env["IDP_PRIVATE_KEY_PATH"]))
        # The server starts while the database is migrated: its first request
        # waits for both, which saves a second or so of each test run.
        migrate = self.popen("migrate", "--no-input", "--skip-checks", "-v0")
        self.process = self.popen(
            "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"
        )
        if migrate.wait(timeout=60):
            self.stop()
            raise RuntimeError(f"provider: migrate failed:\n{self.log()}")
        self.wait_until_serving()
        return self

    def popen(self, *args):
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "django", *args],
                env=self.env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_serving(self):
        deadline = time.monotonic() + STARTUP_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"provider exited at start:\n{self.log()}")
            # Not listening yet, or busy migrating (a loaded machine may keep
            # the first answer past the timeout): ask again.
            try:
                if requests.get(self.discovery_url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"provider not serving after {STARTUP_DEADLINE}s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def add_person(self, email, password, name, *, verified=True):
        """A person who signs in at the provider with this email and password;
        the ID token names them ``name`` (split as first and last name)."""
        person = {"email": email, "password": password, "name": name, "verified": verified}
        self.django("shell", "-c", ADD_PERSON, stdin=json.dumps(person))

    def add_client(self, redirect_uri, *more_redirect_uris, skip_consent=False):
        """A confidential client allowed the scopes openid, profile and email
        and the code flow; returns its (client_id, secret)."""
        client_id, secret = token_hex(16), token_hex(32)
        client = {
            "id": client_id,
            "name": f"Test client {client_id[:6]}",
            "secret": secret,
            "redirect_uris": [redirect_uri, *more_redirect_uris],
            "scopes": SCOPES,
            "skip_consent": skip_consent,
        }
        self.django("shell", "-c", ADD_CLIENT, stdin=json.dumps(client))
        return client_id, secret

    def connect(self, client_id, secret, *, name, provider_id="university"):
        """The app's SocialApp for this provider, as a superuser adds it."""
        from allauth.socialaccount.models import SocialApp

        return SocialApp.objects.create(
            provider="openid_connect",
            provider_id=provider_id,
            name=name,
            client_id=client_id,
            secret=secret,
            settings={"server_url": self.issuer},
        )

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_oidc_provider(workdir):
    """Migrate a fresh provider in ``workdir`` and serve it; the caller stops it."""
    return OIDCProvider(workdir).start()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = start_oidc_provider(tmp_path_factory.mktemp("oidc_provider"))
    yield provider
    provider.stop()


class FormParser(html.parser.HTMLParser):
    """The forms of a page: action, fields a browser would send, and buttons."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}, "buttons": []})
        elif not self.forms:
            return
        elif tag == "button" or (tag == "input" and attrs.get("type") == "submit"):
            self.forms[-1]["buttons"].append((attrs.get("name"), attrs.get("value", "")))
        elif tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                fields = self.forms[-1]["fields"]
                fields.setdefault(attrs["name"], []).append(attrs.get("value", ""))
        elif tag == "select":
            self.select = attrs.get("name")
        elif tag == "option" and self.select:
            # The first option, or a selected one, as a browser sends.
            fields = self.forms[-1]["fields"]
            if self.select not in fields or "selected" in attrs:
                fields[self.select] = [attrs.get("value", "")]

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


def page_forms(text):
    parser = FormParser()
    parser.feed(text)
    return parser.forms


def origin(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def sign_in_at_provider(authorize_url, email, password, *, session=None, max_steps=12):
    """Act as the person's browser at the provider: follow ``authorize_url``,
    sign in (or re-enter the password) when asked, grant consent when asked,
    and return the redirect back to the client (its callback with ``code``
    and ``state``, or ``error``) without following it.

    Pass the same ``session`` to stay signed in at the provider between calls.
    With ``password=None`` being asked to sign in is an error: the test
    expected the provider to let the person through on their session.
    """
    session = session or requests.Session()
    provider = origin(authorize_url)
    url, data, asked = authorize_url, None, set()
    for _ in range(max_steps):
        method = "POST" if data is not None else "GET"
        response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, data = urljoin(url, response.headers["Location"]), None
            if origin(url) != provider:
                return url
            continue
        if response.status_code != 200:
            raise AssertionError(
                f"provider answered {response.status_code} at {url}:\n{response.text[:2000]}"
            )
        kind, action, data = fill_form(response.text, email, password)
        if kind in asked and kind != "consent":
            raise AssertionError(f"provider asked for the {kind} again at {url}: wrong password?")
        asked.add(kind)
        url = urljoin(url, action)
    raise AssertionError(f"no redirect to the client after {max_steps} pages")


def fill_form(text, email, password):
    """What to send for the form the provider shows: (kind, action, data),
    kind being "sign-in", "password re-entry" or "consent"."""
    for form in page_forms(text):
        data, buttons = dict(form["fields"]), form["buttons"]
        if "password" in data:
            if password is None:
                raise AssertionError("provider asked the person to sign in")
            data["password"] = [password]
            if "login" not in data:
                return "password re-entry", form["action"], data
            data["login"] = [email]
            return "sign-in", form["action"], data
        if "request" in data and ("action", "grant") in buttons:
            data["action"] = ["grant"]
            return "consent", form["action"], data
    raise AssertionError(f"no sign-in or consent form on the provider's page:\n{text[:2000]}")
