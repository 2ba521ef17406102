"""Replacing a file so that a crash at any moment leaves either its old or its new contents.

The new contents go to a temporary file beside the target, which is flushed to disk and then
renamed over the target; the directory is flushed after the rename, so the rename survives a
power loss too. The temporary is created the way ``open(path, "w")`` creates a file, so it gets
the mode the umask gives (0644 under the usual umask of 022); an existing target's mode is kept.

A process killed while saving (SIGKILL, out of memory) leaves its temporary behind, named after
the target: ``.<name>.dualgrad-save-<16 hex digits>``. The next save to that target removes such
leftovers. A save in progress holds an advisory lock on its temporary from creation to rename, so
the sweep never removes one that a live process is still writing.
"""

from __future__ import annotations

__all__ = ["replace_atomically"]

import contextlib
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: a file another process holds open cannot be removed anyway
    fcntl = None

_MARK = ".dualgrad-save-"


def _prefix(name: str) -> str:
    """What the temporaries of the target ``name`` are named from: the name, or for a name too
    long to leave room in the file system's 255 bytes, a digest of it."""
    encoded = os.fsencode(name)
    stem = name if len(encoded) <= 200 else hashlib.sha256(encoded).hexdigest()
    return f".{stem}{_MARK}"


def _temporary_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(_prefix(name)) + "[0-9a-f]{16}")


def replace_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Replace the file at ``path`` (a symbolic link is followed) by what ``write`` writes.

    If ``write`` raises, or anything else fails, the target is left as it was and the temporary
    is removed.
    """
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    _remove_abandoned_temporaries(folder, name)
    handle, temporary = _create_locked_temporary(folder, name)
    try:
        with open(handle, "wb", closefd=False) as out:
            write(out)
        _keep_mode_of(target, handle, temporary)
        os.fsync(handle)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        os.close(handle)  # releases the lock, once the temporary is renamed or removed
    _sync_directory(folder)


def _create_locked_temporary(folder: str, name: str) -> tuple[int, str]:
    """A new temporary for the target ``name`` in ``folder``, open and locked."""
    while True:
        temporary = os.path.join(folder, _prefix(name) + secrets.token_hex(8))
        # Mode 0o666 less the umask, as for any new file; O_EXCL: never an existing file.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        handle = os.open(temporary, flags, 0o666)
        if fcntl is None:
            return handle, temporary
        fcntl.flock(handle, fcntl.LOCK_EX)
        # Another save's sweep may have locked and removed the file before this lock was taken.
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(handle), os.stat(temporary)):
                return handle, temporary
        os.close(handle)


def _keep_mode_of(target: str, handle: int, temporary: str) -> None:
    """Give the temporary the existing target's permissions, as writing in place would keep."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(handle, mode)
    else:
        os.chmod(temporary, mode)


def _remove_abandoned_temporaries(folder: str, name: str) -> None:
    """Remove the temporaries of earlier saves to ``name`` whose process died."""
    pattern = _temporary_pattern(name)
    try:
        entries = [entry.path for entry in os.scandir(folder) if pattern.fullmatch(entry.name)]
    except OSError:
        return  # an unreadable folder: the save itself reports what is wrong
    for path in entries:
        try:
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # gone already, or not a file of ours
        try:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails: a live save's
            os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(handle)


def _sync_directory(folder: str) -> None:
    """Flush the directory entry of the rename to disk (POSIX; Windows has no such call)."""
    if os.name == "nt":
        return
    # Some file systems cannot open or sync a directory; the rename itself has happened.
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
