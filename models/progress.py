"""A progress bar for long training runs that stays quiet when nobody is watching.

``progress_bar(iterable, enabled=None, ...)`` wraps ``tqdm``. The bar is shown only when

* ``enabled`` is not ``False`` (``True`` forces it on, ``None`` means "decide automatically"),
* the environment variable ``GENVERIFY_PROGRESS`` is not ``0`` / ``false`` / ``no`` / ``off``
  (``GENVERIFY_PROGRESS=1`` forces it on, like ``enabled=True``), and
* in automatic mode, stderr (where tqdm writes) is a terminal. Where stdout goes does not
  matter: ``genverify report > log`` keeps its bar on the terminal and the log clean, and
  ``genverify report 2> log`` gets no bar at all.

When the bar is off, the iterable is returned through a no-op wrapper with the same
``set_postfix`` / ``update`` / ``close`` methods, so training loops need no branches.
``write_line(bar, text, stream)`` prints a line without tearing a bar that shares the terminal
(tqdm clears the bar, the line is written, the bar redrawn) and flushes ``stream``, so that the
line reaches a pipe, a file or a CI log at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TextIO, TypeVar

T = TypeVar("T")

ENV_VAR = "GENVERIFY_PROGRESS"
_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on", "force"}


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether a bar should be shown: argument, then ``GENVERIFY_PROGRESS``, then the terminals."""
    env = os.environ.get(ENV_VAR, "").strip().lower()
    if enabled is False or env in _OFF:
        return False
    if enabled is True or env in _ON:
        return True
    return _is_tty(sys.stderr)


class _Quiet(Generic[T]):
    """Stand-in for a tqdm bar: iterates, accepts the bar's methods, prints nothing."""

    def __init__(self, iterable: Iterable[T] | None) -> None:
        self._iterable = iterable if iterable is not None else ()

    def __iter__(self) -> Iterator[T]:
        return iter(self._iterable)

    def __enter__(self) -> "_Quiet[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        return None

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        return None

    def update(self, n: float = 1) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(
    iterable: Iterable[T] | None = None,
    enabled: bool | None = None,
    **tqdm_kwargs: Any,
) -> Any:
    """``tqdm(iterable, **tqdm_kwargs)`` when :func:`progress_enabled`, else a silent wrapper."""
    if not progress_enabled(enabled):
        return _Quiet(iterable)
    from tqdm import tqdm  # imported lazily: no work at import

    tqdm_kwargs.setdefault("leave", False)
    tqdm_kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **tqdm_kwargs)


def write_line(bar: Any, text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` and a newline to ``stream`` (default stdout) above ``bar``, then flush."""
    stream = sys.stdout if stream is None else stream
    if isinstance(bar, _Quiet):
        stream.write(text + "\n")
    else:
        with bar.external_write_mode(file=stream):
            stream.write(text + "\n")
    stream.flush()


__all__ = ["ENV_VAR", "progress_bar", "progress_enabled", "write_line"]
