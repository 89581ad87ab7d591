"""Where stored files (the sealed PDFs) go: the file system, one whole file at a time.

With STORAGE_BUCKET set they go to an S3-compatible bucket instead
(agreements/objectstorage.py), where a PUT is whole or nothing by itself.
"""

import contextlib
import os
import posixpath
import secrets

from django.core.files.storage import FileSystemStorage


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that never leaves half a file under a stored name.

    Django writes straight into the final path, so a failed write (a full
    disk) leaves a truncated file that a later read would serve as the PDF.
    Here the content goes to a temporary name beside it first and takes the
    final name only once it is whole and on disk.
    """

    def _save(self, name, content):
        directory, filename = posixpath.split(name)
        temporary = posixpath.join(directory, f".{filename}.{secrets.token_hex(8)}.part")
        try:
            # The parent writes it: same directory creation, locking and modes.
            temporary = super()._save(temporary, content)
            _fsync(self.path(temporary))
            name = self._move_into_place(temporary, name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path(temporary))
        _fsync(os.path.dirname(self.path(name)))
        return name

    def _move_into_place(self, temporary, name):
        """Give the whole file its name; returns the name it got."""
        if self._allow_overwrite:
            os.replace(self.path(temporary), self.path(name))
            return name
        while True:
            # A hard link, unlike a rename, refuses to replace a file another
            # writer stored under the same name since get_available_name().
            try:
                os.link(self.path(temporary), self.path(name))
            except FileExistsError:
                name = self.get_available_name(name)
            else:
                return name


def _fsync(path):
    """Flush a file (or a directory's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_leftovers(storage, prefix):
    """Delete the files stored under ``prefix`` (and their half-written
    ``.part`` copies) that no row names.

    Call it holding the lock of the row that will name the file. A worker
    stopped between storing a file and committing the row that names it (over
    the task timeout, killed, a database that went away) leaves the file
    behind; the attempt that stores it for good clears what the stopped one
    left, so a version's folder holds one sealed PDF, whatever happened.

    Any storage will do: a bucket has no folders, lists a prefix nothing is
    stored under as empty, and holds no half-written copies.
    """
    directory, start = posixpath.split(prefix)
    try:
        _, files = storage.listdir(directory)
    except FileNotFoundError:
        # A folder the file system has not made yet.
        return
    for filename in files:
        if filename.startswith((start, f".{start}")):
            storage.delete(posixpath.join(directory, filename))
