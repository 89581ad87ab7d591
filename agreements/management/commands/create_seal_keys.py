"""Create the private CA and the seal certificate that agreements' PDFs are sealed with.

The private keys are written unencrypted (mode 0600), so the folder must be protected
like any other secret. The root key is only needed to issue a new seal certificate:
keep a copy offline and remove it from the server.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

KEY_SIZE = 3072
ROOT_LIFETIME = datetime.timedelta(days=20 * 365)
SEAL_LIFETIME = datetime.timedelta(days=5 * 365)
# Tolerate clock skew between this machine and whoever validates a fresh seal.
BACKDATE = datetime.timedelta(minutes=5)
# id-kp-documentSigning (RFC 9336); cryptography has no constant for it.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


class Command(BaseCommand):
    help = (
        "Create a self-signed root CA and a seal certificate issued by it, for sealing "
        "agreement PDFs. The private keys are written unencrypted: protect them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace existing files. PDFs sealed before stay valid only "
            "for whoever still trusts the old root certificate.",
        )

    def handle(self, *args, **options):
        paths = {
            "root certificate": settings.SEAL_ROOT_CERT_FILE,
            "root key": settings.SEAL_ROOT_KEY_FILE,
            "seal certificate": settings.SEAL_CERT_FILE,
            "seal key": settings.SEAL_KEY_FILE,
        }
        existing = [str(path) for path in paths.values() if path.exists()]
        if existing and not options["force"]:
            raise CommandError(
                "Refusing to overwrite existing seal files (pass --force to replace "
                "them): " + ", ".join(existing)
            )

        root_key, root_cert = make_root(settings.SEAL_NAME)
        seal_key, seal_cert = make_seal(settings.SEAL_NAME, root_key, root_cert)

        files = {
            settings.SEAL_ROOT_CERT_FILE: (cert_pem(root_cert), 0o644),
            settings.SEAL_CERT_FILE: (cert_pem(seal_cert), 0o644),
            settings.SEAL_ROOT_KEY_FILE: (key_pem(root_key), 0o600),
            settings.SEAL_KEY_FILE: (key_pem(seal_key), 0o600),
        }
        for path, (data, mode) in files.items():
            try:
                write_file(path, data, mode)
            except OSError as exc:
                raise CommandError(f"Could not write {path}: {exc}") from exc
            self.stdout.write(f"Wrote {path}")

        fingerprint = root_cert.fingerprint(hashes.SHA256()).hex(":").upper()
        self.stdout.write(f"Root certificate SHA-256 fingerprint: {fingerprint}")
        self.stdout.write(
            self.style.WARNING(
                "The private keys are unencrypted: keep them readable by this service "
                f"only, and store the root key ({settings.SEAL_ROOT_KEY_FILE}) offline."
            )
        )


def make_root(name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        _builder(subject, subject, key.public_key(), ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_seal(name, root_key, root_cert):
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        _builder(subject, root_cert.subject, key.public_key(), SEAL_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # pyHanko's validator requires non-repudiation (content commitment) by default.
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return key, cert


def _builder(subject, issuer, public_key, lifetime):
    now = timezone.now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + lifetime)
    )


def _key_usage(**usages):
    flags = {
        "digital_signature": False,
        "content_commitment": False,
        "key_encipherment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "key_cert_sign": False,
        "crl_sign": False,
        "encipher_only": False,
        "decipher_only": False,
    }
    return x509.KeyUsage(**{**flags, **usages})


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_file(path, data, mode):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Create with the final mode so a key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        # An existing file (--force) keeps its old mode unless changed explicitly.
        os.fchmod(file.fileno(), mode)
        file.write(data)
