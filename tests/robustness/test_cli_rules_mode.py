"""Result files written by the shared CLI machinery get the usual file mode (not mkstemp's 0600)."""

import os
import stat

from apps.cliutil import atomic_path, atomic_write_text


def test_atomic_writes_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        a = atomic_write_text(tmp_path / "a.json", "{}\n")
        with atomic_path(tmp_path / "b.txt") as tmp:
            with open(tmp, "w") as fh:
                fh.write("x")
    finally:
        os.umask(old)
    for p in (a, tmp_path / "b.txt"):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.txt"]  # no temporary file left
