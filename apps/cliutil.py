"""Shared command-line machinery of ``stochgrad-jets``, ``stochgrad-cuts`` and ``stochgrad-reactions``.

The rules every CLI follows (docs/reliability.md):

* a bad argument or an unreadable input is **one line** on stderr and exit status 2
  (never a traceback, never exit 0 after an error);
* output paths are checked *before* any work: not empty, not a directory, of the
  right kind (``.json`` for results, an image suffix for plots), distinct from each
  other, not existing unless ``--force``;
* writes are atomic (a temporary file in the same folder, then :func:`os.replace`);
* JSON is strict: NaN and ±inf become ``null`` and ``allow_nan=False`` guards the rest;
* nothing is written into ``docs/`` unless the user names that path.

:func:`run` wraps a parser and its subcommand functions; :class:`Outputs` plans the
files a command will write; the ``*_arg`` helpers are argparse ``type=`` checkers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import numbers
import os
import sys
import tempfile
import threading
import time
import warnings

__all__ = ["CliError", "ArgumentParser", "run", "Outputs", "strict_json", "atomic_write_text", "atomic_savefig",
           "input_file", "positive_int", "nonneg_int", "positive_float", "finite_float", "nonneg_float",
           "seed_int", "output_dir", "sibling", "atomic_path", "IMAGE_SUFFIXES", "Progress", "heartbeat",
           "PROGRESS_INTERVAL"]

IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


class CliError(Exception):
    """A user error: printed as one line on stderr, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose errors are one line (no usage block).

    argparse's own ``error`` prints the usage and then the message; here only
    ``prog: error: message`` is printed (``--help`` still shows the usage).
    """

    def error(self, message):
        raise CliError(f"{message} (see {self.prog} --help)")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@contextlib.contextmanager
def _one_line_warnings(prog):
    """Warnings raised while a command runs are printed as single lines."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {_one_line(f'{category.__name__}: {message}')}", file=sys.stderr)

    with warnings.catch_warnings():  # restores showwarning and the filters afterwards
        warnings.showwarning = show
        yield


def run(prog: str, parser: argparse.ArgumentParser, argv=None, func_attr: str = "func") -> int:
    """Parse ``argv``, run the chosen subcommand, turn every error into one stderr line.

    Args:
        prog: the program name used in messages.
        parser: the parser (preferably an :class:`ArgumentParser`); the parsed
            namespace must carry the command function under ``func_attr``.
        argv: arguments (default ``sys.argv[1:]``).
        func_attr: attribute of the namespace holding ``fn(args) -> exit status``.

    Returns:
        The exit status: the command's (0 on success), 2 after any error, 130 on Ctrl-C.
    """
    with _one_line_warnings(prog):
        return _run(prog, parser, argv, func_attr)


def _run(prog, parser, argv, func_attr):
    where = prog
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version, or a plain argparse parser's error
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        cmd = getattr(args, "command", None)
        where = f"{prog} {cmd}" if cmd else prog
        try:
            status = getattr(args, func_attr)(args)
        except SystemExit as exc:  # code that still exits with a message
            if exc.code is None or isinstance(exc.code, int):
                return int(exc.code or 0)
            raise CliError(str(exc.code)) from None
        return 0 if status is None else int(status)
    except CliError as err:
        print(f"{where}: error: {_one_line(err)}", file=sys.stderr)
    except ImportError as err:
        print(f"{where}: error: a package this command needs is missing ({_one_line(err)}); install the "
              "matching extra, e.g. pip install 'stochgrad[all]'", file=sys.stderr)
    except (ValueError, TypeError, OSError, RuntimeError, KeyError, IndexError, EOFError, MemoryError,
            OverflowError, ZeroDivisionError) as err:
        msg = str(err) or type(err).__name__
        if isinstance(err, OSError) and err.filename is not None and str(err.filename) not in msg:
            msg = f"{msg}: {err.filename}"
        kind = "" if isinstance(err, (ValueError, OSError, RuntimeError)) else f"{type(err).__name__}: "
        print(f"{where}: error: {kind}{_one_line(msg)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the contract is one line and exit 2, whatever went wrong
        print(f"{where}: error: unexpected {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
    return 2


# ----------------------------------------------------------------------------- argparse types

def _number(text, kind, name):
    try:
        v = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def at_least(lo, kind=int, strict=False, why=""):
    """argparse type: a finite ``kind`` (int or float) ≥ ``lo`` (``> lo`` when ``strict``).

    ``why`` is added to the error message (e.g. what the bound is for).
    """
    name = "an integer" if kind is int else "a number"
    op = ">" if strict else ">="

    def parse(text):
        v = _number(text, kind, name)
        if v < lo or (strict and v == lo):
            raise argparse.ArgumentTypeError(f"must be {op} {lo:g}{f' ({why})' if why else ''}, got {v:g}")
        return v

    parse.__name__ = f"{kind.__name__} {op} {lo:g}"
    return parse


def in_interval(lo, hi, closed=(True, True)):
    """argparse type: a finite number in the interval from ``lo`` to ``hi`` (``closed`` per end)."""
    lo_ok = (lambda v: v >= lo) if closed[0] else (lambda v: v > lo)
    hi_ok = (lambda v: v <= hi) if closed[1] else (lambda v: v < hi)
    text_iv = f"{'[' if closed[0] else '('}{lo:g}, {hi:g}{']' if closed[1] else ')'}"

    def parse(text):
        v = _number(text, float, "a number")
        if not (lo_ok(v) and hi_ok(v)):
            raise argparse.ArgumentTypeError(f"must be in {text_iv}, got {v:g}")
        return v

    parse.__name__ = f"number in {text_iv}"
    return parse


positive_int = at_least(1)
positive_int.__doc__ = "argparse type: an integer ≥ 1."
nonneg_int = at_least(0)
nonneg_int.__doc__ = "argparse type: an integer ≥ 0."
positive_float = at_least(0.0, float, strict=True)
positive_float.__doc__ = "argparse type: a finite number > 0."
nonneg_float = at_least(0.0, float)
nonneg_float.__doc__ = "argparse type: a finite number ≥ 0."


def seed_int(text):
    """argparse type: a seed, an integer in [0, 2**63)."""
    v = _number(text, int, "an integer seed")
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**63), got {v}")
    return v


def finite_float(text):
    """argparse type: a finite number."""
    return _number(text, float, "a number")


# ----------------------------------------------------------------------------- inputs

def input_file(path, what="input file", suffixes=None) -> str:
    """Check that ``path`` names a readable, non-empty regular file; return it.

    Raises:
        CliError: empty name, missing, a directory, unreadable, empty, or a wrong suffix.
    """
    if path is None or str(path).strip() == "":
        raise CliError(f"{what}: empty path")
    p = os.fspath(path)
    if not os.path.exists(p):
        raise CliError(f"{what} {p!r} does not exist")
    if os.path.isdir(p):
        raise CliError(f"{what} {p!r} is a directory, not a file")
    if not os.access(p, os.R_OK):
        raise CliError(f"{what} {p!r} is not readable")
    if os.path.getsize(p) == 0:
        raise CliError(f"{what} {p!r} is empty")
    if suffixes and not p.lower().endswith(tuple(suffixes)):
        raise CliError(f"{what} {p!r} must end in one of {', '.join(suffixes)}")
    return p


# ----------------------------------------------------------------------------- outputs

def json_ready(obj):
    """A copy of ``obj`` with numpy scalars/arrays as Python values and non-finite floats as None."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return json_ready(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        v = float(obj)
        return v if math.isfinite(v) else None
    return str(obj)


def strict_json(obj, indent=1) -> str:
    """Strict JSON text of ``obj``: NaN/±inf → ``null``, numpy values converted, ``allow_nan=False``."""
    return json.dumps(json_ready(obj), indent=indent, allow_nan=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _tmp_in(path, suffix=".tmp"):
    """A temporary file beside ``path`` with the mode a plain ``open`` would give (mkstemp makes 0600)."""
    d, base = os.path.split(os.path.abspath(os.fspath(path)))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=suffix, dir=d)
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, tmp


def atomic_write_text(path, text: str) -> str:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside ``path`` (same suffix) for any writer; renamed onto ``path`` on success.

    Usage: ``with atomic_path(out) as tmp: writer(..., tmp)``. On an exception the
    temporary file is removed and ``path`` is left as it was.
    """
    fd, tmp = _tmp_in(path, suffix=".tmp" + os.path.splitext(os.fspath(path))[1])
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_savefig(fig, path, **kw) -> str:
    """``fig.savefig`` atomically (the format comes from ``path``'s suffix)."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, **kw)
    return path


class Outputs:
    """The files one command will write, checked together before any work.

    Usage::

        out = Outputs(force=args.force)
        js = out.add(args.json, "--json", kind="json")
        png = out.add(sibling(js, ".png"), "plot", kind="image")
        out.check()                       # raises CliError; nothing computed yet
        ...
        out.write_json(js, result)

    Checks: the name is not empty; it is not a directory; the suffix matches the
    kind (``.json`` for results, an image suffix for plots, ``.npz``/``.parquet``/``.root``
    for events); no two outputs are the same file; the nearest existing parent is
    a writable directory; an existing file is replaced only with ``force``.
    """

    SUFFIXES = {"json": (".json",), "image": IMAGE_SUFFIXES, "events": (".npz", ".parquet", ".pq", ".root")}

    def __init__(self, force=False):
        self.force = bool(force)
        self.paths = {}

    def add(self, path, what, kind):
        """Register an output ``path`` (described as ``what``) of ``kind``; returns the path."""
        if path is None or str(path).strip() == "":
            raise CliError(f"{what}: empty output path")
        p = os.fspath(path)
        suffixes = self.SUFFIXES[kind]
        if not p.lower().endswith(suffixes):
            raise CliError(f"{what} {p!r} must end in {' or '.join(suffixes)} (a {kind} file)")
        key = os.path.realpath(p)
        if key in self.paths:
            raise CliError(f"{what} {p!r} is the same file as {self.paths[key][1]}; one would overwrite the other")
        self.paths[key] = (p, what)
        return p

    def check(self):
        """Check every registered output; raise :class:`CliError` on the first problem."""
        for key, (p, what) in self.paths.items():
            if os.path.isdir(p):
                raise CliError(f"{what} {p!r} is a directory; give a file name")
            if os.path.lexists(p) and not self.force:
                raise CliError(f"{what} {p!r} exists; pass --force to overwrite it")
            if os.path.exists(p) and not os.path.isfile(p):
                raise CliError(f"{what} {p!r} exists and is not a regular file")
            _check_folder_creatable(os.path.dirname(os.path.abspath(p)), p, what)
        return self

    def write_json(self, path, obj):
        """Strict JSON, written atomically."""
        return atomic_write_text(path, strict_json(obj) + "\n")

    def savefig(self, path, fig, **kw):
        """A figure, written atomically."""
        return atomic_savefig(fig, path, **kw)


def output_dir(path, what="--out") -> str:
    """Check that ``path`` can be used as an output folder (exists as one or can be created)."""
    if path is None or str(path).strip() == "":
        raise CliError(f"{what}: empty output folder")
    p = os.fspath(path)
    if os.path.exists(p) and not os.path.isdir(p):
        raise CliError(f"{what} {p!r} is a file, not a folder")
    _check_folder_creatable(os.path.abspath(p), p, what)
    return p


def _check_folder_creatable(folder, p, what):
    """``folder`` exists, or can be created: its nearest existing ancestor is a writable folder."""
    probe = folder
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise CliError(f"{what} {p!r}: {probe!r} is a file, so the folder cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CliError(f"{what} {p!r}: folder {probe!r} is not writable")
    try:  # permissions can say yes where the file system says no (/proc, read-only mounts, root)
        fd, name = tempfile.mkstemp(prefix=".stochgrad-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as err:
        raise CliError(f"{what} {p!r}: cannot write into folder {probe!r} ({err.strerror or err})") from None


def sibling(path, suffix) -> str:
    """``path`` with its suffix replaced by ``suffix`` (e.g. the plot beside a JSON file)."""
    return os.path.splitext(os.fspath(path))[0] + suffix


PROGRESS_INTERVAL = 10.0  # seconds between progress lines when stderr is not a terminal


class Progress:
    """Progress on stderr: a tqdm bar on a terminal, else one line at least every ``PROGRESS_INTERVAL`` seconds.

    When stderr is a file or a pipe (a batch job, ``2> log``), a line such as
    ``optimise R: step 12/48, R=0.6513 loss=0.4121±0.012, 35 s elapsed`` is printed
    every ``interval`` seconds by a background thread — also while one step takes
    longer than that — and a last line at the end if any was printed. Runs shorter
    than ``interval`` print nothing. ``enabled=False`` is silent.

    Args:
        total: number of steps (None: unknown).
        desc: what runs (the line's prefix).
        unit: the steps' name.
        enabled: False for no output (``--quiet``).
        interval: seconds between lines off a terminal (default :data:`PROGRESS_INTERVAL`).
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(self, total=None, desc="", unit="it", enabled=True, interval=None, stream=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = PROGRESS_INTERVAL if interval is None else float(interval)
        self.n, self.postfix, self._t0, self._printed = 0, "", time.perf_counter(), False
        self._bar = self._thread = None
        self._lock, self._stop = threading.Lock(), threading.Event()
        self.enabled = bool(enabled)
        if not self.enabled:
            return
        tty = getattr(self.stream, "isatty", lambda: False)()
        if tty:
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True)
                return
            except ImportError:
                pass
        self._last = self._t0
        self._thread = threading.Thread(target=self._beat, name=f"progress {desc}", daemon=True)
        self._thread.start()

    def line(self):
        """The current progress as one line."""
        with self._lock:
            n, post = self.n, self.postfix
        count = f" {n}/{self.total}" if self.total is not None else (f" {n}" if n else "")
        elapsed = time.perf_counter() - self._t0
        return f"{self.desc}: {self.unit}{count}" + (f", {post}" if post else "") + f", {elapsed:.0f} s elapsed"

    def _emit(self):
        try:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream: progress is not worth an error
            return
        self._printed, self._last = True, time.perf_counter()

    def _beat(self):
        while not self._stop.wait(min(self.interval, 1.0) if self.interval > 0 else 0.05):
            if time.perf_counter() - self._last >= self.interval:
                self._emit()

    def update(self, n=1):
        """Count ``n`` more steps."""
        if self._bar is not None:
            self._bar.update(n)
            return
        with self._lock:
            self.n += n
        if self._thread is not None and self.interval <= 0:
            self._emit()

    def set_postfix_str(self, s, refresh=True):
        """Show ``s`` (the current state: R, loss, ...) after the count."""
        if self._bar is not None:
            self._bar.set_postfix_str(s, refresh=refresh)
            return
        with self._lock:
            self.postfix = s

    def close(self):
        """Stop; off a terminal, a last line if any line was printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            if self._printed:
                self._emit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def heartbeat(desc, enabled=True, interval=None, stream=None):
    """A :class:`Progress` without steps: on a terminal an elapsed-time display, else a line every interval."""
    return Progress(None, desc, unit="running", enabled=enabled, interval=interval, stream=stream)
