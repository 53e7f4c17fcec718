"""Runs change no shared state (thread safety) and Exact refuses huge programs up front."""

import sys
import threading
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd.numpy.numpy_boxes import ArrayBox

import stochgrad as sg
from stochgrad.examples import sincos


@sg.stochastic
def compares(theta):
    """A program that compares a θ-dependent value (BiasWarning expected)."""
    k = sg.bernoulli(1 / (1 + anp.exp(-theta)))
    return anp.sin(theta) if theta * 1.0 > 0.5 else k * anp.cos(theta)


def _job(f, est, seed, theta, seen):
    e = sg.value_and_grad(f, est, n=200, seed=seed)(theta)
    return e, sorted(seen.get(threading.get_ident(), set()))


class _PerThreadWarnings:
    """Collect warning categories per thread (``catch_warnings`` itself is process-wide, not per thread)."""

    def __init__(self):
        self.seen = {}

    def __enter__(self):
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *a, **k: self.seen.setdefault(
            threading.get_ident(), set()).add(category.__name__)
        return self.seen

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def test_eight_threads_match_serial_runs_and_leave_autograd_alone():
    cmp_methods = {name: getattr(ArrayBox, name) for name in ("__lt__", "__le__", "__gt__", "__ge__")}
    jobs = [(sincos if i % 2 else compares, sg.ScoreFunction() if i % 4 < 2 else sg.StochasticDerivative(),
             i, 0.3 + 0.1 * i) for i in range(8)]
    serial, results = [], [None] * len(jobs)
    for j in jobs:
        with _PerThreadWarnings() as seen:
            serial.append(_job(*j, seen))
    barrier = threading.Barrier(len(jobs))

    def work(i, seen):
        barrier.wait()
        results[i] = _job(*jobs[i], seen)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the runs really interleave
    try:
        with _PerThreadWarnings() as seen:
            threads = [threading.Thread(target=work, args=(i, seen)) for i in range(len(jobs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(old)
    for (f, _, _, _), (es, ws), (ep, wp) in zip(jobs, serial, results):
        assert ws == wp == (["BiasWarning"] if f is compares else [])
        np.testing.assert_array_equal(es.samples, ep.samples)
        assert es.value == ep.value
    assert {name: getattr(ArrayBox, name) for name in cmp_methods} == cmp_methods  # nothing patched per run


@sg.stochastic
def twenty_flips(theta):
    p = 1 / (1 + anp.exp(-theta))
    return sum(sg.bernoulli(p) for _ in range(20)) * theta


def test_exact_refuses_twenty_bernoullis_up_front():
    with pytest.raises(sg.TooManyTraces, match="about 1.05e\\+06 estimated") as info:
        sg.value_and_grad(twenty_flips, sg.Exact())(0.2)
    assert info.value.estimate == 2.0**20  # a full binary tree: every probe gives 2^20
    assert sg.Exact().estimate_traces(sincos, 0.3) == 2.0
    with pytest.raises(ValueError, match="probes"):
        sg.Exact(probes=-1)


@pytest.mark.parametrize("d", [0, 1, 3])
def test_dual_runs_match_reverse_mode(d):
    """The dual-number fast path gives autograd's pathwise term, score, alternatives and boundary sites."""
    from stochgrad._run import DualRun, run_dual
    from stochgrad.extend import run_boxed, run_differentiated
    from stochgrad.extend import NoiseTape, Trace
    from stochgrad.estimators.stochastic_derivative import _alternatives_and_score

    @sg.stochastic
    def f(theta):
        t = anp.sum(theta * anp.arange(1, max(d, 1) + 1)) if d else theta
        a = sg.bernoulli(1 / (1 + anp.exp(-t)))
        first = theta[0] if d else theta
        k = sg.categorical(logits=anp.array([0.0, t, -2 * first, 0.5]))
        c = sg.bernoulli(anp.exp(-t * t) * 0.9)
        last = theta[-1] if d else theta
        return anp.sin(last) * (a + k) + c * t ** 2 / (1.5 + anp.cos(t)) + anp.sqrt(2.0 + anp.tanh(t)) + sg.uniform()

    theta = np.linspace(0.2, -0.3, d) if d else 0.35
    for seed in range(6):
        tape = NoiseTape(np.random.default_rng(seed))
        run = run_differentiated(f, theta, (), {}, tape, "t") if d < 2 else run_dual(f, theta, (), {}, Trace(tape), "t")
        assert isinstance(run, DualRun)  # (run_differentiated takes θ of several components to reverse mode)
        rev = run_boxed(f, theta, (), {}, Trace(tape), "t", forward=False)
        assert run.value == pytest.approx(rev.value, rel=1e-14)
        np.testing.assert_allclose(run.grad_of(run.out), rev.grad_of(rev.out), rtol=1e-12)
        np.testing.assert_allclose(run.score(), rev.score(), rtol=1e-12, atol=1e-15)
        for form in ("rao_blackwell", "inverse_cdf"):
            for x, y in zip(_alternatives_and_score(run, form, True), _alternatives_and_score(rev, form, True)):
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


def test_dual_path_does_what_autograd_does_and_never_reruns():
    """np.clip, a comparison, a ufunc without a dual rule: the dual run gives autograd's numbers (no rerun; the
    comparison is recorded for the BiasWarning). float() of θ raises the named error once, as with autograd."""
    from stochgrad._run import DualRun
    from stochgrad.extend import NoiseTape, Trace, run_boxed, run_differentiated

    programs = [
        lambda t: sg.bernoulli(0.3) * anp.clip(t, -1.0, 1.0),  # np.clip: compares dual numbers
        lambda t: sg.bernoulli(1 / (1 + anp.exp(-t))) + (t if t > 0 else -t),  # a comparison (BiasWarning)
        lambda t: anp.logaddexp(t, 0.5) * sg.bernoulli(0.5),  # a binary ufunc without a rule: autograd's rule
    ]
    for prog in programs:
        for seed in range(3):
            run = run_differentiated(sg.stochastic(prog), 0.4, (), {}, NoiseTape(np.random.default_rng(seed)), "t")
            ref = run_boxed(sg.stochastic(prog), 0.4, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
            assert isinstance(run, DualRun) and run.value == ref.value
            assert float(run.grad_of(run.out)) == pytest.approx(float(ref.grad_of(ref.out)), rel=1e-12)
            assert len(run.comparisons) == len(ref.comparisons)
    with pytest.warns(sg.BiasWarning):
        sg.value_and_grad(programs[1], "score", n=20, seed=0)(0.4)
    calls = []

    def conv(t):
        calls.append(1)
        return float(t) * sg.bernoulli(0.5)

    with pytest.raises(sg.DualUnsupported, match="float"):
        sg.value_and_grad(conv, "score", n=20, seed=0)(0.4)
    assert len(calls) == 1


def test_sample_streams_are_numpys_spawned_children():
    """Tape i draws exactly rng.spawn(n)[i]'s doubles (first in Python, then in blocks, then as a Generator)."""
    from stochgrad._streams import private_rng
    from stochgrad.extend import sample_tapes

    for seed in (0, 12345, [3, 4]):
        rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(2):  # the spawn counter advances like rng.spawn(n)
            tapes, kids = list(sample_tapes(rng, 9)), ref.spawn(9)
            for i, (tape, kid) in enumerate(zip(tapes, kids)):
                m = [1, 4, 5, 64, 65, 300, 2, 7, 0][i]
                assert [tape.uniform(j) for j in range(m)] == [kid.random() for _ in range(m)]
                assert np.array_equal(tape.rng.gumbel(size=2), kid.gumbel(size=2))
                assert tape.uniform(m + 5) == [kid.random() for _ in range(6)][-1]
    with private_rng(7) as rng:
        a = [t.uniform(0) for t in sample_tapes(rng, 3)]
        assert rng.bit_generator.seed_seq.n_children_spawned == 0  # nobody else holds it: no need to advance
    assert a == [k.random() for k in np.random.default_rng(7).spawn(3)]


def test_keyed_uniforms_are_numpys():
    """The stochastic derivative's pick uniforms, computed for a chunk at once: default_rng([seed, i]).random()."""
    from stochgrad._streams import keyed_uniforms

    for seed in (0, 1, 2**32 - 1, 2**32, 2**63 - 1, 8675309123456789):
        idx = [0, 1, 2, 17, 4095, 2**32 - 1, 2**32, 2**40]
        assert keyed_uniforms(seed, idx) == [np.random.default_rng([seed, i]).random() for i in idx]
    assert keyed_uniforms(5, range(0)) == []


def test_bernoulli_only_dual_fast_paths_match_reverse_mode():
    """Score added while recording, one family group, gradient arrays in one pass: autograd's numbers.

    Covers a walk whose every choice depends on θ, one with a θ-free Bernoulli
    among them (the general loop), and choices at p = 1 whose probability
    moves (boundary sites).
    """
    from stochgrad._run import DualRun
    from stochgrad.extend import NoiseTape, Trace, run_boxed, run_differentiated
    from stochgrad.estimators.stochastic_derivative import _alternatives_and_score

    def walk(theta, fixed):
        x = 0
        for i in range(30):
            if fixed and i % 7 == 3:
                x += sg.bernoulli(0.4)
            else:
                x += 1 if sg.bernoulli(0.9 / (1 + anp.exp(x / theta))) else -1
        return x * x * theta

    def edge(theta):
        a = sg.bernoulli(1.0 + 0.0 * theta)  # p = 1 that does not move
        b = sg.bernoulli(2.0 * theta)  # p = 1 at θ = 0.5, moving
        c = sg.bernoulli(theta - 0.5)  # p = 0 at θ = 0.5, moving
        return a + b * theta + c

    cases = [(walk, 3.0, (False,)), (walk, 3.0, (True,)), (edge, 0.5, ())]
    for prog, theta, args in cases:
        f = sg.stochastic(prog)
        for seed in range(4):
            tape = NoiseTape(np.random.default_rng(seed))
            run = run_differentiated(f, theta, args, {}, tape, "t")
            assert isinstance(run, DualRun)
            rev = run_boxed(f, theta, args, {}, Trace(tape), "t", forward=False)
            assert [tuple(c[:2]) + (c.value,) for c in run.records] == [tuple(c[:2]) + (c.value,) for c in rev.records]
            np.testing.assert_allclose(run.score(), rev.score(), rtol=1e-12, atol=1e-15)
            assert run.boundary_sites() == rev.boundary_sites()
            for form in ("rao_blackwell", "inverse_cdf"):
                for x, y in zip(_alternatives_and_score(run, form, True), _alternatives_and_score(rev, form, True)):
                    np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


def test_interleaved_sample_streams_keep_their_numbers():
    """Tapes drawn in turns (each block re-seeds the shared scratch generator) and handed to a Generator mid-block."""
    from stochgrad._streams import private_rng
    from stochgrad.extend import sample_tapes

    with private_rng(11) as rng:
        tapes = list(sample_tapes(rng, 4))
    kids = np.random.default_rng(11).spawn(4)
    expect = [k.random(700) for k in kids]
    got = [[] for _ in tapes]
    order = np.random.default_rng(0).integers(0, 4, size=1600)
    for j in order:
        t = tapes[j]
        got[j].append(t.uniform(len(t.entries)))  # the next positional uniform
    for j, t in enumerate(tapes):
        n = len(got[j])
        assert got[j] == expect[j][:n].tolist()
        g = t.rng  # a real Generator continuing the stream where the tape stands
        assert np.array_equal(g.random(5), expect[j][n:n + 5])


def test_the_float_pick_of_an_all_bernoulli_run_is_the_array_pick():
    """StochasticDerivative's shortcut for runs of dual Bernoullis (one Rao-Blackwellised pick on Python floats)
    picks the alternative, weight and masses of the general array form, for many runs and uniforms."""
    from stochgrad.estimators.stochastic_derivative import _alternatives_and_score, _dual_bernoulli_pick
    from stochgrad.examples import random_walk
    from stochgrad.extend import run_differentiated, sample_tapes

    rng = np.random.default_rng(3)
    for p, steps in ((200.0, 100), (3.0, 20)):
        for tape in sample_tapes(np.random.default_rng(int(p)), 60):
            run = run_differentiated(random_walk, p, (steps,), {}, tape, "x")
            sites, values, W, score, edge = _alternatives_and_score(run, "rao_blackwell", True)
            for u in [0.0, 0.5, 1 - 1e-16] + rng.random(5).tolist():
                site, value, wj, total, mj, sc, ed = _dual_bernoulli_pick(run, u)
                assert (sc, ed) == (float(score[0]), edge)
                if not len(sites):
                    assert site is None
                    continue
                mass = np.abs(W).sum(axis=1)
                j = min(int(np.searchsorted(np.cumsum(mass) / mass.sum(), u, side="right")), len(sites) - 1)
                assert (site, value, wj, total, mj) == (int(sites[j]), int(values[j]), float(W[j, 0]),
                                                        float(mass.sum()), float(mass[j]))
