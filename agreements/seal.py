"""Seal agreement PDFs with a PAdES certification signature, and check such seals.

The keys come from `manage.py create_seal_keys`. Anyone holding the root certificate
can check a sealed PDF offline; `validate_sealed_pdf` does the same here.
"""

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import (
    SignatureCoverageLevel,
    read_certification_data,
    validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

FIELD_NAME = "Seal"


class SealError(Exception):
    """The PDF could not be sealed, or the seal keys could not be read."""


@dataclass(frozen=True)
class SealStatus:
    sealed: bool = False  # carries a certification signature
    intact: bool = False  # the signed bytes and the signature match
    trusted: bool = False  # the signer's certificate chains to our root
    unchanged: bool = False  # nothing was added or changed after sealing
    timestamped: bool = False  # a trusted timestamp authority vouches for signed_at
    signed_at: datetime | None = None
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.sealed and self.intact and self.trusted and self.unchanged


def seal_uses_timestamp_authority() -> bool:
    return bool(settings.SEAL_TSA_URL)


def seal_pdf(pdf_bytes: bytes, *, reason: str, location: str = "") -> bytes:
    """Return `pdf_bytes` with an invisible certification signature appended.

    Nothing may change after the seal (DocMDP "no changes"). Raises SealError.
    """
    signer = _load_signer()
    timestamper = (
        HTTPTimeStamper(settings.SEAL_TSA_URL) if seal_uses_timestamp_authority() else None
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        location=location or None,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
        _keep_pdfa_metadata_consistent(writer)
        # An unreachable or failing timestamp authority raises here: sealing
        # without the timestamp that was asked for would pass silently.
        output = signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper)
    except (PdfError, ValueError, KeyError, OSError) as exc:
        raise SealError(f"Could not seal the PDF: {_describe(exc)}") from exc
    return output.getvalue()


def validate_sealed_pdf(
    pdf_bytes: bytes, *, root_cert_path=None, tsa_root_cert_path=None
) -> SealStatus:
    """Check the seal on a PDF against our root certificate, without network access.

    Never raises for a bad document (it is reported in the status); raises SealError
    only when the root certificate itself cannot be read. A timestamp counts only if
    its authority chains to `tsa_root_cert_path` (or to our root).
    """
    root = _load_cert(root_cert_path or settings.SEAL_ROOT_CERT_FILE, "root certificate")
    trust_roots = [root]
    if tsa_root_cert_path:
        trust_roots.append(_load_cert(tsa_root_cert_path, "timestamp authority certificate"))
    try:
        return _validate(pdf_bytes, root, trust_roots)
    except Exception as exc:  # Parsing hostile input fails in many ways.
        return SealStatus(summary=f"Not a readable sealed PDF: {_describe(exc)}")


def _validate(pdf_bytes, root, trust_roots):
    reader = PdfFileReader(BytesIO(pdf_bytes))
    certification = read_certification_data(reader)
    signatures = reader.embedded_regular_signatures
    if certification is None or not signatures or signatures[0].docmdp_level is None:
        return SealStatus(summary="The PDF is not sealed.")

    # Fetching is off: our certificates name no revocation services, and checking
    # a document must not make the server call out to URLs the document names.
    status = validate_pdf_signature(
        signatures[0],
        signer_validation_context=ValidationContext(trust_roots=[root], allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=trust_roots, allow_fetching=False),
    )
    intact = status.intact and status.valid
    # Coverage is the check that matters: pyHanko's diff analysis judges some
    # appended updates harmless (a new Info title, bytes after %%EOF), even
    # under "no changes", but a seal promises that not one byte was added.
    unchanged = status.coverage == SignatureCoverageLevel.ENTIRE_FILE and bool(status.docmdp_ok)
    timestamp = status.timestamp_validity
    timestamped = timestamp is not None and timestamp.trusted
    signed_at = timestamp.timestamp if timestamped else status.signer_reported_dt

    problems = []
    if not intact:
        problems.append("the content does not match the seal (altered after sealing)")
    elif not status.trusted:
        problems.append("the seal was not made with our certificate")
    if not unchanged:
        problems.append("the file was changed after sealing")
    if timestamp is not None and not timestamped:
        problems.append("its timestamp is not from a trusted timestamp authority")
    subject = status.signing_cert.subject
    signer = subject.native.get("common_name") or subject.human_friendly
    summary = f"Sealed by {signer}" + (f" on {signed_at:%Y-%m-%d %H:%M %Z}" if signed_at else "")
    if problems:
        summary += ", but " + "; ".join(problems) + "."
    else:
        summary += ("; timestamped" if timestamped else "") + "; intact and unchanged."
    return SealStatus(
        sealed=True,
        intact=intact,
        trusted=status.trusted,
        unchanged=unchanged,
        timestamped=timestamped,
        signed_at=signed_at,
        summary=summary,
    )


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, but the key is parsed once, not on every
    signature: parsing an RSA key is most of a seal's time."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private_key = serialization.load_der_private_key(
            self.signing_key.dump(), password=None
        )

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15" or not isinstance(
            self._private_key, RSAPrivateKey
        ):
            return super().sign_raw(data, digest_algorithm)
        return self._private_key.sign(
            data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
        )


# The signer of this process, and the state of the key files it was built
# from: `create_seal_keys --force` may replace them while the worker runs.
_signer: tuple[tuple, signers.Signer] | None = None
_signer_lock = threading.Lock()


def _load_signer():
    global _signer
    files = (settings.SEAL_KEY_FILE, settings.SEAL_CERT_FILE, settings.SEAL_ROOT_CERT_FILE)
    with _signer_lock:
        stamp = tuple(_file_stamp(path) for path in files)
        if _signer is None or _signer[0] != stamp:
            _signer = (stamp, _build_signer())
        return _signer[1]


def _file_stamp(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _build_signer():
    key_file = settings.SEAL_KEY_FILE
    try:
        key = load_private_key_from_pemder(key_file, passphrase=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SealError(
            f"Cannot read the seal key {key_file}: {_describe(exc)}. "
            "Create the keys with `manage.py create_seal_keys`."
        ) from exc
    return _ParsedKeySigner(
        signing_cert=_load_cert(settings.SEAL_CERT_FILE, "seal certificate"),
        signing_key=key,
        # The root goes into the signature so validators can build the chain.
        cert_registry=SimpleCertificateStore.from_certs(
            [_load_cert(settings.SEAL_ROOT_CERT_FILE, "root certificate")]
        ),
    )


def _load_cert(path, what):
    try:
        return load_cert_from_pemder(path)
    except (OSError, ValueError, TypeError) as exc:
        raise SealError(
            f"Cannot read the {what} {path}: {_describe(exc)}. "
            "Create the keys with `manage.py create_seal_keys`."
        ) from exc


def _keep_pdfa_metadata_consistent(writer):
    # PDF/A requires the Info dictionary to agree with the XMP metadata. pyHanko
    # sets XMP pdf:Producer to its own name but appends that name to Info
    # /Producer, and stamps Info /ModDate and XMP ModifyDate from two clock reads;
    # so give Info pyHanko's producer and leave the modification date to XMP.
    try:
        info_ref = writer.trailer.raw_get("/Info")
    except KeyError:
        return
    if not isinstance(info_ref, generic.IndirectObject):
        return
    info = info_ref.get_object()
    info["/Producer"] = generic.TextStringObject(VENDOR)
    info.pop("/ModDate", None)
    writer.mark_update(info_ref)


def _describe(exc):
    # pyHanko wraps the useful part ("connection refused") in a generic message.
    text = str(exc) or type(exc).__name__
    if exc.__cause__ is not None:
        text += f" ({_describe(exc.__cause__)})"
    return text
