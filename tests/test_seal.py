import asyncio
import datetime
import io
import re
import shutil
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest
import weasyprint
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps import DummyTimeStamper

from agreements import seal
from agreements.management.commands.create_seal_keys import DOCUMENT_SIGNING
from agreements.seal import SealError, seal_pdf, seal_uses_timestamp_authority, validate_sealed_pdf

REASON = "Signed by mentor and mentee"


def key_settings(folder):
    return {
        "SEAL_KEY_FILE": folder / "seal-key.pem",
        "SEAL_CERT_FILE": folder / "seal-cert.pem",
        "SEAL_ROOT_CERT_FILE": folder / "root-cert.pem",
        "SEAL_ROOT_KEY_FILE": folder / "root-key.pem",
    }


def make_keys(folder):
    paths = key_settings(folder)
    with override_settings(**paths):
        call_command("create_seal_keys", stdout=io.StringIO())
    return paths


def seal_with(paths, pdf):
    with override_settings(**paths, SEAL_TSA_URL=""):
        return seal_pdf(pdf, reason=REASON, location="Online")


# RSA 3072 key generation takes a while: one key set per module, not per test.
@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("seal"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("other-seal"))


@pytest.fixture(autouse=True)
def _seal_settings(settings, keys):
    for name, value in keys.items():
        setattr(settings, name, value)
    settings.SEAL_TSA_URL = ""


@pytest.fixture(scope="module")
def pdf():
    return weasyprint.HTML(string="<p>Hello</p>").write_pdf(pdf_variant="pdf/a-3b")


@pytest.fixture(scope="module")
def sealed(keys, pdf):
    return seal_with(keys, pdf)


def test_sealed_pdf_validates(sealed):
    status = validate_sealed_pdf(sealed)

    assert status.ok
    assert (status.sealed, status.intact, status.trusted, status.unchanged) == (True,) * 4
    assert not status.timestamped
    assert abs(timezone.now() - status.signed_at) < datetime.timedelta(minutes=5)
    assert "Mentorship agreements" in status.summary
    assert not seal_uses_timestamp_authority()


def test_seal_is_a_certification_signature_that_forbids_changes(sealed):
    reader = PdfFileReader(io.BytesIO(sealed))
    (signature,) = reader.embedded_regular_signatures

    assert signature.field_name == "Seal"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == REASON
    assert signature.docmdp_level == MDPPerm.NO_CHANGES
    assert signature.md_algorithm == "sha256"
    # Invisible: the widget has an empty rectangle.
    assert [float(n) for n in signature.sig_field["/Rect"]] == [0, 0, 0, 0]


def test_sealed_pdf_keeps_version_pdfa_identification_and_text(pdf, sealed):
    assert pdf.startswith(b"%PDF-1.7\n")
    assert sealed.startswith(pdf)  # an incremental update: the original bytes are untouched
    reader = PdfFileReader(io.BytesIO(sealed))
    assert "/Version" not in reader.root
    xmp = reader.root["/Metadata"].data.decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert "Hello" in pypdf.PdfReader(io.BytesIO(sealed)).pages[0].extract_text()


def test_seal_keeps_info_and_xmp_metadata_in_step(keys):
    # PDF/A requires every Info entry to agree with its XMP counterpart.
    pdf = weasyprint.HTML(
        string=(
            "<title>Agreement</title>"
            '<meta name="dcterms.modified" content="2027-01-05T10:00:00Z">'
            "<p>Hello</p>"
        )
    ).write_pdf(pdf_variant="pdf/a-3b")

    reader = PdfFileReader(io.BytesIO(seal_with(keys, pdf)))

    info = reader.trailer["/Info"]
    xmp = reader.root["/Metadata"].data.decode()
    assert re.search(rf'pdf:Producer(="|>){re.escape(str(info["/Producer"]))}', xmp)
    # Only XMP keeps the modification date, so the two cannot disagree.
    assert "/ModDate" not in info
    assert info["/Title"] == "Agreement"
    assert re.search(r"<dc:title[^>]*>.*Agreement.*</dc:title>", xmp, re.DOTALL)


def position_in_original(pdf, sealed):
    return len(pdf) // 2


def position_in_seal_revision(pdf, sealed):
    return sealed.index(b"/Reason", len(pdf)) + 3


def position_in_signature_value(pdf, sealed):
    # Not just anywhere in /Contents: the certificates embedded there and the zero
    # padding after the signature container are not signed, so flipping a byte in
    # them leaves the document as it was sealed (and the seal valid).
    (signature,) = PdfFileReader(io.BytesIO(sealed)).embedded_regular_signatures
    value = signature.signer_info["signature"].native.hex().upper().encode()
    return sealed.index(value) + len(value) // 2


def position_near_end(pdf, sealed):
    return len(sealed) - 10


def position_last_byte(pdf, sealed):
    return len(sealed) - 1


@pytest.mark.parametrize(
    "position",
    [
        position_in_original,
        position_in_seal_revision,
        position_in_signature_value,
        position_near_end,
        position_last_byte,
    ],
)
def test_one_flipped_byte_breaks_the_seal(pdf, sealed, position):
    tampered = bytearray(sealed)
    tampered[position(pdf, sealed)] ^= 0x01

    status = validate_sealed_pdf(bytes(tampered))

    assert not status.ok
    assert status.summary


def change_title(writer):
    info_ref = writer.trailer.raw_get("/Info")
    info_ref.get_object()["/Title"] = generic.TextStringObject("Forged")
    writer.mark_update(info_ref)


def add_annotation(writer):
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    note = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
            generic.pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(0)] * 4),
            generic.pdf_name("/Contents"): generic.TextStringObject("Not agreed"),
        }
    )
    page["/Annots"].append(writer.add_object(note))
    writer.update_container(page)


# pyHanko's own verdict accepts the title change (it ranks it with LTA updates,
# which "no changes" permits); the seal must not.
@pytest.mark.parametrize("change", [change_title, add_annotation])
def test_update_appended_after_sealing_is_detected(sealed, change):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    change(writer)
    output = io.BytesIO()
    writer.write(output)
    updated = output.getvalue()
    assert updated.startswith(sealed) and len(updated) > len(sealed)

    status = validate_sealed_pdf(updated)

    assert not status.ok
    assert not status.unchanged
    assert status.sealed and status.intact and status.trusted
    assert "changed after sealing" in status.summary


def test_bytes_appended_after_sealing_are_detected(sealed):
    # pyHanko ranks this as no modification at all; only the coverage tells.
    status = validate_sealed_pdf(sealed + b"% appended after sealing\n")

    assert not status.ok
    assert not status.unchanged
    assert "changed after sealing" in status.summary


def test_seal_from_another_root_is_not_trusted(other_keys, pdf):
    foreign = seal_with(other_keys, pdf)

    status = validate_sealed_pdf(foreign)

    assert not status.ok
    assert status.sealed and status.intact and not status.trusted
    assert "not made with our certificate" in status.summary
    # ...while it is fine for whoever trusts that other root.
    assert validate_sealed_pdf(foreign, root_cert_path=other_keys["SEAL_ROOT_CERT_FILE"]).ok


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF\n"])
def test_garbage_is_reported_not_raised(data):
    status = validate_sealed_pdf(data)

    assert not status.ok
    assert not status.sealed
    assert status.summary


def test_truncated_seal_is_reported_not_raised(sealed):
    status = validate_sealed_pdf(sealed[: len(sealed) - 200])

    assert not status.ok
    assert "Not a readable" in status.summary


def test_unsealed_pdf_is_not_sealed(pdf):
    status = validate_sealed_pdf(pdf)

    assert not status.ok
    assert not status.sealed
    assert status.summary == "The PDF is not sealed."


def test_sealing_garbage_raises_seal_error():
    with pytest.raises(SealError, match="Could not seal") as excinfo:
        seal_pdf(b"not a pdf", reason=REASON)
    assert excinfo.value.__cause__ is not None


@pytest.mark.parametrize("setting", ["SEAL_KEY_FILE", "SEAL_CERT_FILE", "SEAL_ROOT_CERT_FILE"])
def test_missing_key_file_raises_helpful_seal_error(settings, tmp_path, pdf, setting):
    missing = tmp_path / "missing.pem"
    setattr(settings, setting, missing)

    with pytest.raises(SealError, match="create_seal_keys") as excinfo:
        seal_pdf(pdf, reason=REASON)
    assert str(missing) in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, FileNotFoundError)


def test_validating_without_root_certificate_raises_seal_error(tmp_path, sealed):
    with pytest.raises(SealError, match="root certificate"):
        validate_sealed_pdf(sealed, root_cert_path=tmp_path / "missing.pem")


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_timestamp_authority_fails_the_seal(settings, pdf):
    settings.SEAL_TSA_URL = f"http://127.0.0.1:{closed_port()}/tsa"

    assert seal_uses_timestamp_authority()
    with pytest.raises(SealError, match="timestamp"):
        seal_pdf(pdf, reason=REASON)


@pytest.fixture
def timestamp_authority(tmp_path):
    """A timestamp authority on a local port, with its own self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = timezone.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert_der),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = asyncio.run(stamper.async_request_tsa_response(request)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cert_path = tmp_path / "tsa-cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    yield f"http://127.0.0.1:{server.server_port}/tsa", cert_path
    server.shutdown()
    server.server_close()


def test_timestamp_counts_only_from_a_trusted_authority(settings, pdf, timestamp_authority):
    url, tsa_cert_path = timestamp_authority
    settings.SEAL_TSA_URL = url

    sealed = seal_pdf(pdf, reason=REASON)

    trusted_tsa = validate_sealed_pdf(sealed, tsa_root_cert_path=tsa_cert_path)
    assert trusted_tsa.ok and trusted_tsa.timestamped
    assert abs(timezone.now() - trusted_tsa.signed_at) < datetime.timedelta(minutes=1)
    # Anyone can swap the token (it sits outside the signed bytes), so one from
    # an unknown authority must not vouch for the time.
    unknown_tsa = validate_sealed_pdf(sealed)
    assert unknown_tsa.ok and not unknown_tsa.timestamped
    assert "timestamp is not from a trusted" in unknown_tsa.summary


def test_create_seal_keys_writes_protected_keys_and_prints_fingerprint(settings, tmp_path):
    folder = tmp_path / "new" / "seal"
    for name, value in key_settings(folder).items():
        setattr(settings, name, value)
    out = io.StringIO()

    call_command("create_seal_keys", stdout=out)

    for path in (settings.SEAL_KEY_FILE, settings.SEAL_ROOT_KEY_FILE):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    root = x509.load_pem_x509_certificate(settings.SEAL_ROOT_CERT_FILE.read_bytes())
    fingerprint = root.fingerprint(hashes.SHA256()).hex(":").upper()
    assert fingerprint in out.getvalue()
    for path in key_settings(folder).values():
        assert str(path) in out.getvalue()


def test_certificates_fit_their_purpose(keys):
    root = x509.load_pem_x509_certificate(keys["SEAL_ROOT_CERT_FILE"].read_bytes())
    seal = x509.load_pem_x509_certificate(keys["SEAL_CERT_FILE"].read_bytes())

    seal.verify_directly_issued_by(root)
    assert seal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Mentorship agreements"
    )
    root_constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert root_constraints.ca and root_constraints.path_length == 0
    root_usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert root_usage.key_cert_sign and root_usage.crl_sign
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert seal.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == (
        x509.ExtendedKeyUsage([DOCUMENT_SIGNING])
    )
    assert root.public_key().key_size == seal.public_key().key_size == 3072
    lifetime = seal.not_valid_after_utc - seal.not_valid_before_utc
    assert datetime.timedelta(days=5 * 365) <= lifetime < datetime.timedelta(days=5 * 366)
    root_lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert root_lifetime >= datetime.timedelta(days=20 * 365)


def test_create_seal_keys_refuses_to_overwrite_without_force(settings, tmp_path):
    for name, value in key_settings(tmp_path).items():
        setattr(settings, name, value)
    call_command("create_seal_keys", stdout=io.StringIO())
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}

    with pytest.raises(CommandError, match="--force"):
        call_command("create_seal_keys", stdout=io.StringIO())
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before

    settings.SEAL_KEY_FILE.chmod(0o644)
    call_command("create_seal_keys", "--force", stdout=io.StringIO())
    assert settings.SEAL_ROOT_CERT_FILE.read_bytes() != before[settings.SEAL_ROOT_CERT_FILE]
    assert stat.S_IMODE(settings.SEAL_KEY_FILE.stat().st_mode) == 0o600


def test_a_process_builds_its_signer_once_and_seals_stay_valid(pdf):
    first = seal_pdf(pdf, reason=REASON)
    signer = seal._load_signer()
    second = seal_pdf(pdf, reason=REASON)

    assert seal._load_signer() is signer
    assert validate_sealed_pdf(first).ok and validate_sealed_pdf(second).ok


def test_keys_replaced_while_running_seal_the_next_pdf(settings, tmp_path, keys, other_keys, pdf):
    """`create_seal_keys --force` while the worker runs: the next seal uses the new keys."""
    folder = tmp_path / "seal"
    folder.mkdir()
    for name, path in key_settings(folder).items():
        shutil.copy(keys[name], path)
        setattr(settings, name, path)
    assert validate_sealed_pdf(seal_pdf(pdf, reason=REASON)).ok
    signer = seal._load_signer()

    for name, path in key_settings(folder).items():
        path.unlink()
        shutil.copy(other_keys[name], path)
    after = seal_pdf(pdf, reason=REASON)

    assert seal._load_signer() is not signer
    assert validate_sealed_pdf(after).ok  # against the new root, now in settings' folder
    assert not validate_sealed_pdf(after, root_cert_path=keys["SEAL_ROOT_CERT_FILE"]).trusted
