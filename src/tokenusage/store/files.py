"""Files at rest. The store holds the admins' Argon2 hashes and the session records, the data
directory the session secret, and the reference server's ledger the licence keys in plain
text: folders we create are 0700 and database files 0600, whatever the umask (`mkdir` and
`open` only ever remove bits from the mode asked for, so the mode is set again afterwards).
SQLite gives its `-wal` and `-shm` files the database file's mode.

A store that existed before, readable by other users, is left as it is (it may be shared on
purpose) but said once, at start, with the command that fixes it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_warned: set[Path] = set()


def private_dir(path: Path) -> None:
    """`path` and its missing parents, created 0700; an existing folder is left alone."""
    missing: list[Path] = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        folder.chmod(PRIVATE_DIR)


def create_private(path: Path) -> int | None:
    """A new file `path` opened for writing with mode 0600 (its descriptor), or None when the
    file exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return None
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def private_database(path: Path) -> None:
    """Before SQLite opens `path`: its folder and an empty database file, private; an existing
    file readable by others is warned about (once per process)."""
    private_dir(path.parent)
    fd = create_private(path)
    if fd is not None:
        os.close(fd)  # SQLite reads an empty file as an empty database
        return
    warn_if_exposed(path)


def warn_if_exposed(path: Path) -> None:
    """Log a warning when `path`, or its folder, lets other users read it."""
    resolved = path.resolve()
    if resolved in _warned:
        return
    loose = []
    for target in (resolved, resolved.parent):
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            loose.append(f"{target} is mode {mode:04o}")
    if loose:
        _warned.add(resolved)
        log.warning(
            "%s: other users of this machine may read it (it holds password hashes, sessions "
            "or licence keys); run: chmod 700 %s && chmod 600 %s*",
            "; ".join(loose),
            resolved.parent,
            resolved,
        )
