"""A SAML 2.0 identity provider for the tests, in-process and offline: its own
RSA key and self-signed certificate (``cryptography``), responses built with
lxml and signed by xmlsec, the library python3-saml verifies them with.

    idp = new_idp()
    app.settings = idp.app_settings(sp_entity_id="https://sp.example.test/saml")
    host = {"HTTP_HOST": "sp.example.test", "secure": True}
    redirect = client.post(login_url, **host)        # allauth -> the IdP
    saml_response = idp.response(
        acs_url="https://sp.example.test" + acs_path,
        audience="https://sp.example.test/saml",
        in_response_to=request_id(redirect["Location"]),
        name_id="u-123", email="maria@example.com", name="Maria Mentor",
    )
    finish = client.post(acs_path, {"SAMLResponse": saml_response}, **host)
    client.get(finish["Location"], **host)           # allauth's ACS, second half

Give every request an HTTP_HOST with a dot in it (and ALLOWED_HOSTS): allauth
reads ``request.META["HTTP_HOST"]``, which Django's test client leaves unset
(KeyError), and python3-saml refuses single-label hosts such as "testserver"
("sp_acs_url_invalid") unless ``allow_single_label_domains=True``.

Only the Assertion is signed, as most IdPs do and as ``want_assertion_signed``
asks; ``tamper`` changes it afterwards, to show a signature being checked.

python3-saml checks every time against the real clock (``time.time()``),
not Django's, so a frozen ``timezone.now()`` does not move these times.
Its checks allow five minutes of clock drift on ``Conditions``, none on
``SubjectConfirmationData``.
"""

import base64
import datetime
import urllib.parse
import uuid
import zlib
from dataclasses import dataclass, field

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NSMAP = {"samlp": SAMLP, "saml": SAML}

# The attributes the IdP sends, named as the usual IdPs name them (eduPerson
# OIDs; auth0's for email_verified, the one allauth maps by default).
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
EMAIL = "urn:oid:0.9.2342.19200300.100.1.3"
EMAIL_VERIFIED = "http://schemas.auth0.com/email_verified"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
EMAIL_ADDRESS = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

# How long an assertion stays usable when the test does not say.
LIFETIME = datetime.timedelta(minutes=5)


@dataclass
class SAMLIdP:
    entity_id: str
    sso_url: str
    x509cert: str
    key_pem: bytes = field(repr=False)
    cert_pem: bytes = field(repr=False)

    def app_settings(self, *, sp_entity_id: str, **advanced) -> dict:
        """``SocialApp.settings`` for allauth's saml provider trusting this
        IdP, strict; ``advanced`` adds to or overrides its "advanced" part
        (e.g. ``allow_single_label_domains=True`` for Django's "testserver")."""
        return {
            "idp": {
                "entity_id": self.entity_id,
                "x509cert": self.x509cert,
                "sso_url": self.sso_url,
            },
            "sp": {"entity_id": sp_entity_id},
            "attribute_mapping": {
                "uid": SUBJECT_ID,
                "email": EMAIL,
                "email_verified": EMAIL_VERIFIED,
                "name": DISPLAY_NAME,
            },
            "advanced": {
                "strict": True,
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                **advanced,
            },
        }

    def response(
        self,
        *,
        acs_url: str,
        audience: str,
        in_response_to: str | None,
        name_id: str,
        email: str | None,
        name: str,
        email_verified: bool = True,
        name_id_format: str = PERSISTENT,
        subject_id: bool = True,
        attributes: dict[str, str] | None = None,
        authn_instant: datetime.datetime | None = None,
        issue_instant: datetime.datetime | None = None,
        not_on_or_after: datetime.datetime | None = None,
        sign: bool = True,
    ) -> str:
        """A base64 SAMLResponse for the HTTP-POST binding, as the IdP posts
        it to ``acs_url``. ``in_response_to=None`` makes an IdP-initiated one.
        ``name_id`` is the person's stable identifier, sent both as the
        NameID and as the subject-id attribute allauth takes the uid from.
        ``email=None, subject_id=False`` sends neither attribute: an IdP that
        gives the address only as its NameID (``name_id_format=EMAIL_ADDRESS``).
        ``attributes`` adds others, by name."""
        issued = issue_instant or _now()
        expires = not_on_or_after or issued + LIFETIME
        response = _element(
            "samlp:Response",
            ID=_new_id(),
            Version="2.0",
            IssueInstant=_saml_time(issued),
            Destination=acs_url,
            InResponseTo=in_response_to,
        )
        _element("saml:Issuer", parent=response, text=self.entity_id)
        status = _element("samlp:Status", parent=response)
        _element("samlp:StatusCode", parent=status, Value=SUCCESS)
        assertion = self._assertion(
            acs_url=acs_url,
            audience=audience,
            in_response_to=in_response_to,
            name_id=name_id,
            name_id_format=name_id_format,
            attributes={
                **({SUBJECT_ID: name_id} if subject_id else {}),
                **({EMAIL: email} if email is not None else {}),
                EMAIL_VERIFIED: "true" if email_verified else "false",
                DISPLAY_NAME: name,
                **(attributes or {}),
            },
            authn_instant=authn_instant or issued,
            issued=issued,
            expires=expires,
        )
        response.append(assertion)
        if sign:
            self._sign(assertion)
        return _encode(response)

    def _assertion(
        self,
        *,
        acs_url,
        audience,
        in_response_to,
        name_id,
        name_id_format,
        attributes,
        authn_instant,
        issued,
        expires,
    ):
        # The element order is the schema's, which python3-saml checks when strict.
        assertion = _element(
            "saml:Assertion", ID=_new_id(), Version="2.0", IssueInstant=_saml_time(issued)
        )
        _element("saml:Issuer", parent=assertion, text=self.entity_id)
        subject = _element("saml:Subject", parent=assertion)
        _element("saml:NameID", parent=subject, text=name_id, Format=name_id_format)
        confirmation = _element("saml:SubjectConfirmation", parent=subject, Method=BEARER)
        _element(
            "saml:SubjectConfirmationData",
            parent=confirmation,
            Recipient=acs_url,
            InResponseTo=in_response_to,
            NotOnOrAfter=_saml_time(expires),
        )
        conditions = _element(
            "saml:Conditions",
            parent=assertion,
            NotBefore=_saml_time(issued),
            NotOnOrAfter=_saml_time(expires),
        )
        restriction = _element("saml:AudienceRestriction", parent=conditions)
        _element("saml:Audience", parent=restriction, text=audience)
        authn = _element(
            "saml:AuthnStatement",
            parent=assertion,
            AuthnInstant=_saml_time(authn_instant),
            SessionIndex=_new_id(),
        )
        context = _element("saml:AuthnContext", parent=authn)
        _element("saml:AuthnContextClassRef", parent=context, text=PASSWORD_PROTECTED)
        statement = _element("saml:AttributeStatement", parent=assertion)
        for attribute_name, value in attributes.items():
            attribute = _element("saml:Attribute", parent=statement, Name=attribute_name)
            _element("saml:AttributeValue", parent=attribute, text=value)
        return assertion

    def _sign(self, assertion):
        """An enveloped signature of the Assertion, right after its Issuer as
        the schema wants: RSA-SHA256 over SHA-256 digests, exclusive c14n."""
        signature = xmlsec.template.create(
            assertion, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds"
        )
        assertion.find("saml:Issuer", NSMAP).addnext(signature)
        reference = xmlsec.template.add_reference(
            signature, xmlsec.Transform.SHA256, uri="#" + assertion.get("ID")
        )
        xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
        xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
        xmlsec.tree.add_ids(assertion, ["ID"])
        key = xmlsec.Key.from_memory(self.key_pem, xmlsec.KeyFormat.PEM)
        key.load_cert_from_memory(self.cert_pem, xmlsec.KeyFormat.PEM)
        context = xmlsec.SignatureContext()
        context.key = key
        context.sign(signature)


def new_idp(
    entity_id="https://idp.example.test/saml", sso_url="https://idp.example.test/saml/sso"
) -> SAMLIdP:
    """An IdP with a fresh 2048-bit RSA key and a self-signed certificate
    valid from yesterday for a year."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.test")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return SAMLIdP(
        entity_id=entity_id,
        sso_url=sso_url,
        x509cert=base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
    )


def tamper(saml_response_b64: str, *, email: str = "mallory@example.test") -> str:
    """The same response with the Assertion's email changed after signing:
    still well-formed and schema-valid, only the signature no longer fits."""
    response = _parse(base64.b64decode(saml_response_b64))
    (value,) = response.findall(
        f"saml:Assertion/saml:AttributeStatement/saml:Attribute[@Name='{EMAIL}']/saml:AttributeValue",
        NSMAP,
    )
    value.text = email
    return _encode(response)


def authn_request(redirect_url: str):
    """The AuthnRequest in a redirect to the IdP (HTTP-Redirect binding: the
    SAMLRequest query parameter, raw-deflated then base64)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect_url).query)
    (saml_request,) = query["SAMLRequest"]
    request = _parse(zlib.decompress(base64.b64decode(saml_request), wbits=-15))
    assert request.tag == f"{{{SAMLP}}}AuthnRequest", request.tag
    return request


def request_id(redirect_url: str) -> str:
    """The ID of the AuthnRequest in a redirect to the IdP."""
    return authn_request(redirect_url).get("ID")


def _element(tag, *, parent=None, text=None, **attributes):
    """``prefix:name`` in NSMAP's namespaces; attributes given as None are left out."""
    prefix, name = tag.split(":")
    qualified = f"{{{NSMAP[prefix]}}}{name}"
    values = {key: value for key, value in attributes.items() if value is not None}
    if parent is None:
        element = etree.Element(qualified, values, nsmap=NSMAP)
    else:
        element = etree.SubElement(parent, qualified, values)
    element.text = text
    return element


def _parse(xml: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(xml, parser)


def _encode(response) -> str:
    xml = etree.tostring(response, xml_declaration=True, encoding="UTF-8")
    return base64.b64encode(xml).decode()


def _new_id():
    # An xs:ID is an NCName, which must not start with a digit.
    return "_" + uuid.uuid4().hex


def _now():
    # The real clock, as python3-saml's checks use it; no Django settings needed.
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _saml_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
