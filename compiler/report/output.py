"""Write output files atomically: a temporary file in the same directory, fsync, rename.

A reader never sees half a file, and a failure (an error, a full disk, a kill) leaves the
previous file as it was and no temporary file behind. When the target exists, its
permissions and ownership carry over to the new file; a new file gets the mode any other
new file would (0666 less the umask, or the directory's default ACL).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Raises OSError; ``path`` is then untouched."""
    directory = path.resolve().parent
    previous = _stat(path)
    fd, temp_name = _create_temporary(directory, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if previous is not None:
            _keep_owner_and_mode(temp_name, previous)
        os.replace(temp_name, path)
        _sync_directory(directory)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def _create_temporary(directory: Path, name: str) -> tuple[int, str]:
    """A new file beside the target. Unlike tempfile.mkstemp (always 0600), it is opened
    with 0666 so that the kernel applies the umask as for any new file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp_name = str(directory / f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp_name, flags, 0o666), temp_name
        except FileExistsError:
            continue


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _keep_owner_and_mode(temp_name: str, previous: os.stat_result) -> None:
    os.chmod(temp_name, previous.st_mode & 0o7777)
    if (previous.st_uid, previous.st_gid) != (os.getuid(), os.getgid()):
        os.chown(temp_name, previous.st_uid, previous.st_gid)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the platform allows opening directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
