"""The active vectorised run of this thread (no imports: the primitives in ``_trace`` check it first)."""

import threading


class _Local(threading.local):
    run = None  # the innermost active VecRun of this thread, or None


state = _Local()
