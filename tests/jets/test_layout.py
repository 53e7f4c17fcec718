"""The layout of apps.jets: no import cycles, no private name imported across modules, one CLI registry.

The import graph is built from the source with ``ast`` (every import, also those inside
functions: a lazy import only hides a cycle). An edge goes to the module that is named
(``from pkg import mod`` → ``pkg.mod`` when that is a module, else ``pkg``); the implicit
import of parent packages is not an edge.
"""

from __future__ import annotations

import ast
import os

import pytest

import apps.jets

ROOT = os.path.dirname(os.path.abspath(apps.jets.__file__))
PKG = "apps.jets"


def _modules():
    mods = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(dirpath, f), ROOT)[:-3].split(os.sep)
                is_pkg = rel[-1] == "__init__"
                name = ".".join([PKG] + (rel[:-1] if is_pkg else rel))
                mods[name] = (os.path.join(dirpath, f), is_pkg)
    return mods


def _imports(name, path, is_pkg, mods):
    """``(target module, imported names, line)`` for every import in ``path`` that stays inside the package."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    here = name if is_pkg else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in mods:
                    out.append((a.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod not in mods:
                continue
            plain = []
            for a in node.names:
                sub = f"{mod}.{a.name}"
                if sub in mods:
                    out.append((sub, [], node.lineno))
                else:
                    plain.append(a.name)
            if plain:
                out.append((mod, plain, node.lineno))
    return out


def _graph():
    mods = _modules()
    return mods, {m: _imports(m, p, pkg, mods) for m, (p, pkg) in mods.items()}


def _find_cycle(edges):
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_is_read():
    mods, graph = _graph()
    assert f"{PKG}.clustering.engine" in mods and f"{PKG}.cli" in mods
    assert (f"{PKG}.io.events", ["as_padded"]) in [(t, n) for t, n, _ in graph[f"{PKG}.clustering.engine"]]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]  # the detector can fail


def test_no_import_cycles():
    _, graph = _graph()
    edges = {m: {t for t, _, _ in imps if t != m} for m, imps in graph.items()}
    assert _find_cycle(edges) is None


def test_no_private_name_imported_across_modules():
    _, graph = _graph()
    bad = [f"{m}:{line} imports {n} from {t}" for m, imps in graph.items() for t, names, line in imps
           for n in names if n.startswith("_") and t != m]
    assert bad == []


@pytest.mark.parametrize("folder", ["clustering", "io", "study"])
def test_library_folders_do_not_import_the_app(folder):
    """The library parts (clustering, io, study) never import the command line, the plots or the top package."""
    _, graph = _graph()
    bad = [f"{m} -> {t}" for m, imps in graph.items() if m.startswith(f"{PKG}.{folder}") for t, _, _ in imps
           if t == PKG or t.startswith((f"{PKG}.cli", f"{PKG}.plots"))]
    assert bad == []


def test_one_subcommand_registry():
    """Every subcommand comes from a module listed in ``apps.jets.cli.COMMANDS`` (its ``register``)."""
    from apps.jets import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(sub.choices) == {"generate", "optimize", "scan", "compare-estimators", "widths", "radius-map"}
    assert not hasattr(cli, "REGISTRARS") and not hasattr(cli, "PLUGIN_MODULES")
