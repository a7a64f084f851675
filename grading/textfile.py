"""Reading an untrusted text file: a regular file (never a link, FIFO, device or directory),
at most :data:`MAX_BYTES` bytes, UTF-8.

Students' answers files and write-ups are read through :func:`read_answers_text`. The file is
opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` on the open descriptor (not
on the name, which could be swapped), read in bounded chunks, and decoded with the place of
the first byte that is not UTF-8 in the message.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["AnswersError", "MAX_BYTES", "read_answers_text"]


class AnswersError(ValueError):
    """An answers file that cannot be read (not TOML, or a value that is not an answer)."""


MAX_BYTES = 1 << 20  # an answers file is text: 1 MiB holds any honest submission many times

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0))


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
             (stat.S_ISSOCK, "a socket"))
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file and not a link.

    ``O_NOFOLLOW`` refuses a link, ``O_NONBLOCK`` keeps a FIFO from blocking the open, and
    ``fstat`` on the open descriptor (not on the name, which could be swapped) checks the kind.
    """
    if path.is_symlink():
        raise AnswersError(f"{path}: is a symbolic link; an answers file must be a regular "
                           "file (links are not followed)")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise AnswersError(f"{path}: is a symbolic link; an answers file must be a regular "
                               "file (links are not followed)") from None
        raise AnswersError(f"{path}: cannot read the file: {error.strerror or error}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise AnswersError(f"{path}: is {_kind(mode)}; an answers file must be a regular file")
    return fd


def _read_limited(fd: int, path: Path) -> bytes:
    """At most :data:`MAX_BYTES` bytes from ``fd`` (an :class:`AnswersError` beyond)."""
    chunks, size = [], 0
    while size <= MAX_BYTES:
        try:
            chunk = os.read(fd, min(1 << 16, MAX_BYTES + 1 - size))
        except OSError as error:
            raise AnswersError(f"{path}: cannot read the file: {error.strerror or error}") \
                from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise AnswersError(f"{path}: the file is larger than {MAX_BYTES // 1024} KiB; an answers "
                       "file holds one short answer per part")


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 text, or an :class:`AnswersError` saying where the first other byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise AnswersError(f"{path}: line {line}, column {column}: the byte "
                           f"0x{data[error.start]:02X} is not UTF-8 text; save the file as "
                           "UTF-8") from None


def read_answers_text(path: str | Path) -> str:
    """The text of an answers file: a regular file (never a link, FIFO, device or directory)
    of at most :data:`MAX_BYTES` bytes of UTF-8."""
    path = Path(path)
    fd = _open_regular(path)
    try:
        data = _read_limited(fd, path)
    finally:
        os.close(fd)
    return _decode(data, path)
