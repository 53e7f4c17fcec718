"""The layers of docs/architecture.md: no import cycles, distributions below the tracer, ``extend`` used by nobody
inside the library, and trace modes that are classes (a new mode is a subclass the primitives dispatch to)."""

import ast
import pathlib

import numpy as np
import pytest

import stochgrad as sg
from stochgrad.extend import NoiseTape, Trace, run_plain

ROOT = pathlib.Path(sg.__file__).parent


def _imports():
    """``{module: {stochgrad modules it imports anywhere in its source (lazy imports included)}}``."""
    files = {".".join(f.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"): f
             for f in ROOT.rglob("*.py")}
    graph = {}
    for mod, f in files.items():
        pkg = mod.split(".") if f.name == "__init__.py" else mod.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = ".".join(pkg[:len(pkg) - node.level + 1] + [node.module or ""]).strip(".") if node.level \
                    else node.module
                deps.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[mod] = {d for d in deps if d in files and d != mod}
    return graph


GRAPH = _imports()


def test_no_import_cycles():
    done, active = set(), []

    def visit(m):
        if m in active:
            pytest.fail("import cycle: " + " -> ".join(active[active.index(m):] + [m]))
        if m not in done:
            active.append(m)
            for d in sorted(GRAPH[m]):
                visit(d)
            active.pop()
            done.add(m)

    for m in sorted(GRAPH):
        visit(m)


def test_distributions_import_nothing_from_the_tracer_and_nothing_imports_extend():
    above = ("stochgrad._trace", "stochgrad._run", "stochgrad._primitives", "stochgrad.estimators", "stochgrad._api")
    for mod, deps in GRAPH.items():
        if mod.startswith("stochgrad.distributions"):
            assert not [d for d in deps if d.startswith(above)], mod
        assert mod == "stochgrad" or "stochgrad.extend" not in deps, mod  # the package only makes it reachable


LAYERS = [  # docs/architecture.md, top to bottom; a module imports only from its own layer or below
    ["stochgrad._api", "stochgrad.testing", "stochgrad.optim", "stochgrad.examples"],
    ["stochgrad.estimators"],
    ["stochgrad.distributed", "stochgrad._chunks", "stochgrad._crossfit", "stochgrad._exact", "stochgrad._estimate"],
    ["stochgrad._run", "stochgrad._vectorized"],
    ["stochgrad._trace", "stochgrad._primitives"],
    ["stochgrad.distributions"],
    ["stochgrad._dual", "stochgrad._streams", "stochgrad._batched", "stochgrad.numpy", "stochgrad.backend",
     "stochgrad._vectorized._context"],
]


def _layer(mod):
    found = [(len(p), i) for i, layer in enumerate(LAYERS) for p in layer if mod == p or mod.startswith(p + ".")]
    return max(found)[1] if found else None


def test_every_module_imports_only_its_layer_or_below():
    for mod, deps in GRAPH.items():
        if mod not in ("stochgrad", "stochgrad.extend"):  # the package and extend re-export
            assert _layer(mod) is not None, f"{mod} is in no layer of docs/architecture.md"
            up = [d for d in deps if d not in ("stochgrad",) and _layer(d) < _layer(mod)]
            assert not up, f"{mod} imports {up} from a layer above it"


class Highest(Trace):
    """A new mode in a few lines: every discrete choice takes its largest outcome of positive probability."""

    def bernoulli(self, p, pv, key):
        return self.choose(sg.distributions.BERNOULLI, p, key, pv)

    def choose(self, family, params, key, pv=None):
        k = family.outcomes(params if pv is None else pv)[0][-1]
        self._records.append((len(self._records), family.name, params, k, None, -1, family))
        return k


def test_a_new_trace_mode_is_a_subclass_the_primitives_dispatch_to():
    @sg.stochastic
    def f(t):
        return sg.bernoulli(0.3) + 10 * sg.categorical(probs=np.array([0.5, 0.5, 0.0])) + 100 * sg.binomial(4, t)

    run = run_plain(f, 0.2, (), {}, Highest(NoiseTape(np.random.default_rng(0))), "t")
    assert run.value == 1 + 10 * 1 + 100 * 4
    assert [c.value for c in run.records] == [1, 1, 4]
