"""Stored files in an S3-compatible bucket, for more than one machine.

Every web server and task worker reads and writes the same objects
(settings: STORAGE_BUCKET, docs/topology.md). Kept apart from
agreements/storage.py because boto3 takes most of a second to import: only a
process configured for a bucket pays for it.
"""

from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    """S3Storage whose failures to read are OSErrors, as the file system's are.

    The views that serve a sealed PDF and `verify_storage` catch OSError to say
    that a file cannot be had right now; a bucket that refuses access or does
    not answer is such a case too, not a server error. An S3 PUT stores the
    whole object or nothing, so nothing here needs the temporary names of
    AtomicFileSystemStorage.
    """

    def _open(self, name, mode="rb"):
        try:
            file = super()._open(name, mode)
            if "r" in mode:
                # Download now, inside this try, rather than at the first read
                # (inside FileResponse, where a failure would be a 500).
                file.open()
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"Cannot read {name} from the bucket: {exc}") from exc
        return file
