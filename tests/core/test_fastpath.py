"""The private copy of a traced program that skips autograd's wrapper (stochgrad._fastpath): same numbers, same
meaning, nothing global changed."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd.numpy import exp as anp_exp

import stochgrad as sg
from stochgrad._dual import Dual
from stochgrad._fastpath import SHIM, specialise

def _up(x, p):
    return anp.exp(-x / p)


@sg.stochastic
def walk(p, n=30):
    x = 0
    for _ in range(n):
        x += 1 if sg.bernoulli(_up(x, p)) else -1
    return x * x + anp.sin(p) * anp_exp(-p)


def test_copy_uses_the_shim_and_leaves_the_module_alone():
    fast = specialise(walk)
    here = walk.fn.__globals__
    assert fast is not walk and fast.__globals__ is not here
    assert fast.__globals__["anp"] is SHIM and fast.__globals__["anp_exp"] is SHIM.exp
    assert fast.__globals__["_up"] is not _up and fast.__globals__["_up"].__globals__ is fast.__globals__
    assert here["anp"] is anp and anp.exp is anp_exp and here["_up"] is _up


def test_shim_functions_give_the_same_numbers_as_autograd_numpy():
    d = Dual(0.3, 1.7)
    for name in ("exp", "log", "sin", "cos", "tan", "sqrt", "tanh", "log1p", "expm1", "arctan", "sinh", "cosh",
                 "arcsin", "arccos", "log2", "log10", "square", "negative", "absolute", "reciprocal"):
        a, b = getattr(SHIM, name)(d), getattr(anp, name)(d)
        assert (a.v, a.t) == (b.v, b.t), name
        for x in (0.3, np.float64(0.3), 1):
            assert getattr(SHIM, name)(x) == getattr(anp, name)(x), name
    arr = np.array([0.1, 0.2])
    assert np.array_equal(SHIM.exp(arr), anp.exp(arr))


def _run(runner, fn, seed=1):
    return runner(fn, 3.0, (), {}, sg.extend.Trace(sg.extend.NoiseTape(np.random.default_rng(seed))), "x")


def test_runs_of_the_copy_match_the_original():
    """Dual-number, plain and autograd (boxed) runs of the copy give the original's numbers (estimates: see
    test_same_numbers.py, computed before the copy existed)."""
    fast = specialise(walk)
    for seed in range(5):
        a, b = _run(sg.extend.run_dual, fast, seed), _run(sg.extend.run_dual, walk, seed)
        assert a.value == b.value and a.out.t == b.out.t and a.trace.score_sum == b.trace.score_sum
        assert _run(sg.extend.run_plain, fast, seed).value == _run(sg.extend.run_plain, walk, seed).value
        boxed = _run(sg.extend.run_boxed, fast, seed)
        assert boxed.value == b.value and float(boxed.grad_of(boxed.out)) == pytest.approx(b.out.t, rel=1e-12)


def test_other_callables_are_returned_unchanged():
    f = sg.stochastic(lambda t: t)
    assert specialise(f) is f  # a lambda whose module has no autograd.numpy names it uses
    assert specialise(len) is len


def _module(src, name, tmp_path):
    """Import ``src`` as a module of its own (from a file, so this test module needs no exec)."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_program_that_writes_its_globals_is_not_copied(tmp_path):
    mod = _module('''
import autograd.numpy as anp
import stochgrad as sg
COUNT = 0

@sg.stochastic
def counting(p):
    global COUNT
    COUNT += 1
    return sg.bernoulli(anp.exp(-1.0 / p)) * p
''', "fastpath_counting", tmp_path)
    assert specialise(mod.counting) is mod.counting
    sg.value_and_grad(mod.counting, sg.ScoreFunction(), n=5, seed=0)(2.0)
    assert mod.COUNT == 5


def test_a_helper_that_rebinds_a_global_keeps_the_program_uncopied(tmp_path):
    """Any function of the module writing a global: the program must read the module's value, not a copy's."""
    mod = _module('''
import autograd.numpy as anp
import stochgrad as sg
LEVEL = 0.0

def bump():
    global LEVEL
    LEVEL += 1.0

@sg.stochastic
def prog(t):
    bump()
    return sg.bernoulli(anp.exp(-1.0 / t)) + LEVEL * t
''', "fastpath_probe", tmp_path)
    assert specialise(mod.prog) is mod.prog
    e = sg.value_and_grad(mod.prog, sg.ScoreFunction("none"), n=4, seed=0)(2.0)
    assert mod.LEVEL == 4.0
    assert set((e.values - 2.0 * np.arange(1, 5)).tolist()) <= {0.0, 1.0}  # LEVEL·t = 2, 4, 6, 8 run by run


def test_function_attributes_are_shared_with_the_original():
    fast = specialise(walk)
    helper = fast.__globals__["_up"]
    assert helper.__dict__ is _up.__dict__
