"""Clustering entry points: input checks, backend dispatch and the merge-history result.

``cluster`` returns a :class:`ClusterResult` — the merge history per (event, sample);
jets, constituents and the dijet mass are selectors on it. ``sample_mjj_and_score`` is
the optimisation fast path: dijet mass and score per (event, sample), no history kept;
``sample_mjj_and_alternatives`` adds the stochastic derivative's alternative paths.

Documented behaviours (not errors):

* an empty event (``counts[e] == 0``) has no jets: ``mjj`` is NaN, score 0;
* a particle with zero pT but non-zero energy is clustered as FastJet does (rapidity
  ``±(1e5 + |pz|)`` if it is massless along the beam, ``s = 1/kt² = 1e300``);
* ``alpha = 0`` samples uniformly among all pairs and beams (score 0); ``alpha = inf``
  is deterministic anti-kT;
* exactly collinear jets (``d_min = 0``): Qanti-kT picks uniformly among the ``d = 0``
  candidates (their probability does not depend on R);
* ``mjj`` uses ``sqrt(max(m², 0))``; NaN when fewer than two jets pass ``ptmin``;
* ``p`` selects the generalised-kt distance ``s = kt^(2p)``: −1 anti-kT (default),
  0 Cambridge/Aachen, 1 kt; the sampled (Q-) version applies to each.

Backends (``backend=``): ``"cpu"`` (numba), ``"cuda"`` (CuPy + NVRTC), ``"cuda-emulated"``
(the CUDA source compiled for the host, for tests), ``"auto"`` (cuda when CuPy sees a
device, else cpu); None picks ``cuda`` for CuPy arrays and ``cpu`` otherwise (or the
default set by :func:`use_backend`). Results live on the input's array module: CuPy in,
CuPy out; NumPy in, NumPy out. Same seed, same histories on every backend (up to
floating-point near-ties between the device's and the host's ``log``/``atan2``).

Validation happens here, before any kernel, with a ``ValueError`` naming the event:
finite momenta with |components| and the event's ΣE at most ``MAX_MOMENTUM`` (so
every squared momentum of every jet is finite), ``MIN_R ≤ R ≤ MAX_R`` and
``α ≤ MAX_ALPHA``. A sampled step whose weights still under- or overflow (distances
like 1e-310 from crafted inputs) is finished safely by the kernel and the call raises
``ValueError`` naming the event; a score or alternative weight is never NaN.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from .backends import get_backend, is_cupy
from .backends.protocol import Job
from ..io.events import as_padded

__all__ = ["cluster", "ClusterResult", "Jets", "sample_mjj_and_score", "sample_mjj_and_alternatives",
           "check_events", "use_backend", "MAX_MOMENTUM", "MIN_R", "MAX_R", "MAX_ALPHA"]

_E_TOL = 1e-7  # allowed relative E < |p| (rounding of massless particles)
MAX_MOMENTUM = 1e150  # GeV: |px|,|py|,|pz|,|E| and an event's Σ|E| (squares of any jet stay finite)
MIN_R, MAX_R = 1e-100, 1e3  # 1/R², s·R² (s ≤ 1e300) and 2α/R stay finite
MAX_ALPHA = 1e100
_P_NAMES = {-1: "anti-kT", 0: "Cambridge/Aachen", 1: "kt"}
_default_backend = contextvars.ContextVar("stochgrad_jets_backend", default=None)


@contextlib.contextmanager
def use_backend(name):
    """Default ``backend=`` for engine calls in this context (thread- and task-local)."""
    from .backends import BACKENDS

    if name is not None and name not in BACKENDS:
        raise ValueError(f"backend = {name!r}: choose one of {', '.join(map(repr, BACKENDS))}")
    token = _default_backend.set(name)
    try:
        yield
    finally:
        _default_backend.reset(token)


def _xp(a):
    if is_cupy(a):
        import cupy

        return cupy
    return np


def check_events(p4, counts):
    """Raise ``ValueError`` naming the first bad event/particle and what to change.

    Works on NumPy or CuPy arrays; on CuPy one small device → host copy (all checks
    reduced together) unless something is wrong. Float64 NumPy events are first
    screened in one numba pass (``backends._numba_check.maybe_bad``, conservative):
    when it finds nothing suspicious the array checks (``_check_events_array``) are skipped.
    """
    xp = _xp(p4)
    n_max = p4.shape[1]
    if (xp is np and n_max and p4.ndim == 3 and p4.shape[2] == 4 and p4.dtype == np.float64
            and counts.ndim == 1 and counts.dtype.kind in "iu" and len(counts) == len(p4)):
        from .backends._numba_check import maybe_bad

        if not maybe_bad(p4, counts, MAX_MOMENTUM, _E_TOL):
            return
    _check_events_array(p4, counts)


def _check_events_array(p4, counts):
    """The checks of :func:`check_events` in NumPy/CuPy array operations (names the first bad item)."""
    xp = _xp(p4)
    n_max = p4.shape[1]
    mask = xp.arange(n_max)[None, :] < counts[:, None]
    with np.errstate(all="ignore"):
        finite = xp.all(xp.isfinite(p4), axis=2)
        big = xp.any(xp.abs(p4) > MAX_MOMENTUM, axis=2)
        esum = xp.sum(xp.where(mask, xp.abs(p4[..., 3]), 0.0), axis=1)
        p = xp.sqrt(xp.sum(p4[..., :3] ** 2, axis=2))
        E = p4[..., 3]
        tach = E < p - _E_TOL * xp.maximum(xp.abs(E), p)
        zero = (E == 0) & (p == 0)
        flags = [mask & ~finite, mask & big, (esum > MAX_MOMENTUM)[:, None] & mask[:, :1], mask & tach, mask & zero]
    if n_max == 0 or not any(bool(v) for v in xp.stack([f.any() for f in flags]).tolist()):
        return
    nonfin, huge, hugesum, tachy, zeros = flags
    if bool(nonfin.any()):
        e, i = map(int, xp.argwhere(nonfin)[0].tolist())
        raise ValueError(f"event {e}, particle {i}: non-finite four-momentum {p4[e, i].tolist()}; "
                         "remove the particle or fix its momentum")
    if bool(huge.any()):
        e, i = map(int, xp.argwhere(huge)[0].tolist())
        raise ValueError(f"event {e}, particle {i}: four-momentum {p4[e, i].tolist()} has a component above "
                         f"{MAX_MOMENTUM:g} GeV (squared momenta overflow); rescale the momenta to GeV")
    if bool(hugesum.any()):
        e = int(xp.argwhere(hugesum)[0, 0])
        raise ValueError(f"event {e}: the particles' energies sum to {float(esum[e]):.3g} GeV, above "
                         f"{MAX_MOMENTUM:g} GeV (squared jet momenta overflow); rescale the momenta to GeV")
    if bool(tachy.any()):
        e, i = map(int, xp.argwhere(tachy)[0].tolist())
        raise ValueError(f"event {e}, particle {i}: E = {float(E[e, i]):.9g} < |p| = {float(p[e, i]):.9g} "
                         "(tachyonic); set E >= |p| (e.g. E = |p| for massless particles)")
    e, i = map(int, xp.argwhere(zeros)[0].tolist())
    raise ValueError(f"event {e}, particle {i}: all-zero four-momentum inside counts[{e}] = {int(counts[e])}; "
                     "check counts (padding rows must lie past counts) or drop the particle")


def _check_R(R, n_ev, xp):
    if is_cupy(R):
        R = R.get()
    R = np.asarray(R, dtype=np.float64)
    if R.ndim == 0:
        R = np.full(n_ev, float(R))
    if R.shape != (n_ev,):
        raise ValueError(f"R must be a scalar or have shape (n_events,) = ({n_ev},), got {R.shape}")
    bad = ~(np.isfinite(R) & (R >= MIN_R) & (R <= MAX_R))
    if bad.any():
        e = int(np.argmax(bad))
        raise ValueError(f"event {e}: jet radius R = {R[e]:g}; R must be a finite number in "
                         f"[{MIN_R:g}, {MAX_R:g}] (1/R² and s·R² must stay finite)")
    return xp.ascontiguousarray(xp.asarray(R))


def _check_alpha(alpha):
    if alpha is None:
        return None
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha = {alpha!r}: Qanti-kT needs a number alpha >= 0 (or None for the deterministic "
                         "algorithm)") from None
    if np.isnan(a) or a < 0:
        raise ValueError(f"alpha = {alpha!r}: Qanti-kT needs alpha >= 0 (alpha=None or inf for the deterministic "
                         "algorithm)")
    if np.isinf(a):
        return None
    if a > MAX_ALPHA:
        raise ValueError(f"alpha = {alpha!r}: above {MAX_ALPHA:g} the α-scaled distances overflow; use "
                         "alpha=None (deterministic clustering, the α → ∞ limit)")
    return a


def _check_p(p):
    if isinstance(p, bool) or p not in _P_NAMES:
        raise ValueError(f"p = {p!r}: the generalised-kt power must be -1 (anti-kT), 0 (Cambridge/Aachen) or 1 (kt)")
    return int(p)


def _seed64(seed):
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 64))
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    return int(seed) % (1 << 64)


def _padded(events):
    """``(p4, counts)`` on the caller's array module (CuPy tuples/containers pass through)."""
    p4c = (events.p4, events.counts) if hasattr(events, "p4") and hasattr(events, "counts") else events
    if isinstance(p4c, tuple) and len(p4c) == 2 and is_cupy(p4c[0]):
        import cupy

        p4 = cupy.ascontiguousarray(p4c[0], dtype=cupy.float64)
        counts = cupy.ascontiguousarray(cupy.asarray(p4c[1]), dtype=cupy.int64)
        if p4.ndim != 3 or p4.shape[-1] != 4:
            raise ValueError(f"p4 must have shape (n_events, n_max, 4), got {p4.shape}")
        if counts.shape != (p4.shape[0],):
            raise ValueError(f"counts must have shape ({p4.shape[0]},), got {counts.shape}")
        bad = (counts < 0) | (counts > p4.shape[1])
        if counts.size and bool(bad.any()):
            e = int(cupy.argmax(bad))
            raise ValueError(f"event {e}: counts = {int(counts[e])} outside [0, n_max = {p4.shape[1]}]")
        return p4, counts
    if isinstance(p4c, tuple) and len(p4c) == 2 and is_cupy(p4c[1]):
        raise TypeError("p4 is a NumPy array but counts a CuPy array: pass both on one array module")
    return as_padded(events)


class _Call:
    """One validated engine call: the job on the backend's array module, and the way back."""

    def __init__(self, events, R, alpha, n_samples, seed, ptmin, p, backend, event_offset=0):
        event_offset = _offset(event_offset)
        if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        if not np.isfinite(ptmin) or ptmin < 0 or ptmin > MAX_MOMENTUM:
            raise ValueError(f"ptmin must be a finite number in [0, {MAX_MOMENTUM:g}], got {ptmin!r}")
        p = _check_p(p)
        alpha = _check_alpha(alpha)
        seed = _seed64(seed)
        raw = events.p4 if hasattr(events, "p4") else events[0] if isinstance(events, tuple) else events
        self.backend = get_backend(_default_backend.get() if backend is None else backend, raw)
        p4, counts = _padded(events)
        xp = self.backend.xp
        self.to_host = xp is not np and not is_cupy(p4)  # NumPy in → NumPy out
        if self.to_host:
            p4, counts = xp.asarray(p4), xp.asarray(counts)
        check_events(p4, counts)
        R = _check_R(R, len(counts), xp)
        ns = 1 if alpha is None else int(n_samples)
        self.job = Job(p4, counts, R, p, alpha, ns, seed, float(ptmin), event_offset)
        self.n_samples = int(n_samples)

    def run(self, want_hist, n_alt=0):
        out = self.backend.run_batch(self.job, want_hist, n_alt)
        alt = self.backend.run_alternatives(self.job, out.reservoir) if n_alt else None
        self._check(out, alt)
        return out, alt

    def _check(self, out, alt):
        """ValueError naming the event when a sampled step's weights under/overflowed."""
        if self.job.alpha is None:
            return
        xp = self.backend.xp
        bad = (out.status != 0) | ~xp.isfinite(out.score)
        if out.reservoir.shape[1]:
            bad |= ~xp.isfinite(out.alt_total)
        if bool(bad.any()):
            it = int(xp.argmax(bad))
            e, s = divmod(it, self.job.n_samples)
            where = f" (global event {self.job.event_offset + e})" if self.job.event_offset else ""
            raise ValueError(f"event {e}{where} (sample {s}): the Qanti-kT weights or score are not finite — its "
                             "distances under- or overflow (momenta or R far from GeV scale, or alpha too large); "
                             "rescale the momenta, change R or alpha, or drop the event")

    def host(self, a):
        return a.get() if self.to_host else a


_MAX_OFFSET = 1 << 62  # event_offset + e stays an int64 in every kernel


def _offset(event_offset):
    if (not isinstance(event_offset, (int, np.integer)) or isinstance(event_offset, bool) or event_offset < 0
            or event_offset > _MAX_OFFSET):
        raise ValueError(f"event_offset must be an integer in [0, 2**62] (the global index of the first event), "
                         f"got {event_offset!r}")
    return int(event_offset)


def _run(events, R, alpha, n_samples, seed, ptmin, want_hist, p, backend, n_alt=0, event_offset=0):
    call = _Call(events, R, alpha, n_samples, seed, ptmin, p, backend, event_offset)
    out, alt = call.run(want_hist, n_alt)
    return call, out, alt


def sample_mjj_and_score(p4, counts, R, alpha, n_samples, seed, ptmin=20.0, event_offset=0, *, p=-1, backend=None):
    """Dijet mass and ∂/∂R log p(history) per (event, sample), in one pass, no Python per event.

    Args:
        p4, counts: padded events ``(n_events, n_max, 4)`` and ``(n_events,)`` (NumPy or CuPy).
        R: scalar or ``(n_events,)``.
        alpha: Qanti-kT α ≥ 0, or None (deterministic: every sample identical, score 0).
        n_samples, seed: samples per event; the stream of sample s of event e depends
            only on (seed, e, s) — step t draws the counter-based uniform (seed, e, s, t).
        ptmin: jet pT threshold for the two leading jets.
        event_offset: global index of the first event (a partition of a larger
            sample): streams are keyed by (seed, event_offset + e, s), so a partition
            gives exactly its rows of the whole batch.
        p: generalised-kt power (−1 anti-kT, 0 Cambridge/Aachen, 1 kt).
        backend: ``"cpu"``, ``"cuda"``, ``"cuda-emulated"``, ``"auto"`` or None (see module).

    Returns:
        ``(mjj, score)``, float64 arrays of shape ``(n_events, n_samples)`` on the input's
        array module; ``mjj`` is NaN where fewer than two jets pass ``ptmin``.

    Raises:
        ValueError: bad events, R, α, p, n_samples, seed, ptmin or event_offset (naming the event);
            an event whose sampled weights under/overflow.
        TypeError, RuntimeError: see :func:`apps.jets.clustering.backends.get_backend`.
    """
    call, out, _ = _run((p4, counts), R, alpha, n_samples, seed, ptmin, False, p, backend,
                        event_offset=event_offset)
    ns, xp = call.job.n_samples, call.backend.xp
    mjj, score = out.mjj.reshape(-1, ns), out.score.reshape(-1, ns)
    if ns != call.n_samples:
        mjj, score = xp.repeat(mjj, call.n_samples, axis=1), xp.repeat(score, call.n_samples, axis=1)
    return call.host(mjj), call.host(score)


def sample_mjj_and_alternatives(p4, counts, R, alpha, n_samples, seed, n_alternatives=1, ptmin=20.0,
                                event_offset=0, *, p=-1, backend=None):
    """Dijet mass, score and stochastic-derivative alternatives per (event, sample).

    For the stochastic derivative of ``E[f(mjj)]`` with respect to R (unbiased):
    every step of a sampled Qanti-kT history offers each candidate it did not take
    as an alternative, with the Rao-Blackwellised weight ``w = ∂π_k/∂R`` (π_k the
    step's candidate probability). ``n_alternatives`` of them are drawn per history
    with probability ``|w| / Σ|w|`` and re-clustered with the same random stream,
    that candidate forced at its step. Then

        ∂/∂R E[f(mjj)] = E[ Σ_j weight_j · (f(alt_mjj_j) − f(mjj)) ]

    with ``weight_j = Σ|w| · sign(w_j) / n_alternatives``. A history costs
    ``1 + n_alternatives`` clusterings.

    Args:
        p4, counts, R, alpha, n_samples, seed, ptmin, event_offset, p, backend: as
            :func:`sample_mjj_and_score` (α must be a finite number > 0: the deterministic
            algorithm and α = 0 do not depend on R through their choices).
        n_alternatives: alternatives drawn per history (≥ 1).

    Returns:
        ``(mjj, score, alt_mjj, alt_weight)``: ``(n_events, n_samples)`` twice, then
        ``(n_events, n_samples, n_alternatives)`` twice. A history without any
        R-dependent choice has weight 0 (and NaN ``alt_mjj``).

    Raises:
        ValueError: bad events, R, α (None, 0 or inf), n_samples, n_alternatives or event_offset.
    """
    if isinstance(n_alternatives, bool) or not (isinstance(n_alternatives, (int, np.integer)) and n_alternatives >= 1):
        raise ValueError(f"n_alternatives must be an integer >= 1, got {n_alternatives!r}")
    try:
        ok = alpha is not None and np.isfinite(float(alpha)) and float(alpha) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"stochastic-derivative alternatives need a finite α > 0 (Qanti-kT), got {alpha!r}")
    n_alt = int(n_alternatives)
    call, out, alt = _run((p4, counts), R, alpha, n_samples, seed, ptmin, False, p, backend, n_alt, event_offset)
    ns = call.job.n_samples
    # each drawn alternative carries Σ|w| · sign / m: their sum estimates Σ_k w_k Δ_k
    weight = out.alt_total[:, None] * out.reservoir_sign / n_alt
    return (call.host(out.mjj.reshape(-1, ns)), call.host(out.score.reshape(-1, ns)),
            call.host(alt.reshape(-1, ns, n_alt)), call.host(weight.reshape(-1, ns, n_alt)))


def cluster(events, R, alpha=None, n_samples=1, seed=None, *, p=-1, backend=None, event_offset=0):
    """Cluster events (``alpha=None``) or sample Q-versions' histories (``alpha ≥ 0``).

    Args:
        events: :class:`~apps.jets.Events`, ``(p4, counts)`` (NumPy or CuPy), an awkward
            array of Momentum4D-like records, or a padded ``(n_events, n_max, 4)`` array.
        R: jet radius, scalar or one per event ``(n_events,)``.
        alpha: None for the deterministic algorithm; α ≥ 0 for the sampled version with
            weights ``exp(−α (d_k − d_min)/d_min)`` over all pairs and beam distances.
        n_samples: sampled histories per event (deterministic: copies of the one history).
        seed: integer (None draws one, stored in ``result.seed``).
        p: generalised-kt power: −1 anti-kT (default), 0 Cambridge/Aachen, 1 kt.
        backend: ``"cpu"``, ``"cuda"``, ``"cuda-emulated"``, ``"auto"`` or None (see module).
        event_offset: global index of the first event (as :func:`sample_mjj_and_score`):
            a partition's histories are exactly its rows of the whole batch's.

    Returns:
        :class:`ClusterResult` (arrays on the input's array module).

    Raises:
        ValueError: bad momenta (NaN/inf, too large, E < |p|, zero vectors inside counts),
            R outside [MIN_R, MAX_R], α < 0 or > MAX_ALPHA, p not in {−1, 0, 1},
            n_samples < 1, event_offset not an integer ≥ 0 — naming the event and what to change.
        TypeError, RuntimeError: see :func:`apps.jets.clustering.backends.get_backend`.
    """
    seed = _seed64(seed)
    call, out, _ = _run(events, R, alpha, n_samples, seed, 0.0, True, p, backend, event_offset=event_offset)
    job, xp = call.job, call.backend.xp
    ns, n_samples = job.n_samples, call.n_samples
    n_ev, n_max = len(job.counts), job.p4.shape[1]
    hist = out.history.reshape(n_ev, ns, n_max, 2)
    dist = out.dij.reshape(n_ev, ns, n_max)
    score = out.score.reshape(n_ev, ns)
    if ns != n_samples:
        hist = xp.broadcast_to(hist, (n_ev, n_samples, n_max, 2))
        dist = xp.broadcast_to(dist, (n_ev, n_samples, n_max))
        score = xp.broadcast_to(score, (n_ev, n_samples))
    h = call.host
    return ClusterResult(h(job.p4), h(job.counts), h(job.R), job.alpha, n_samples, seed, h(hist), h(dist), h(score),
                         p=job.p, backend=call.backend if not call.to_host else None)


class Jets:
    """Jets of every (event, sample), sorted by decreasing pT and padded.

    Attributes:
        p4: ``(n_events, n_samples, n_jmax, 4)`` (px, py, pz, E); padding is zero.
        counts: ``(n_events, n_samples)`` jets per (event, sample).
    """

    def __init__(self, p4, counts):
        self.p4, self.counts = p4, counts

    @property
    def pt(self):
        return _xp(self.p4).hypot(self.p4[..., 0], self.p4[..., 1])

    def __getitem__(self, es):
        """Jets of (event, sample) as an ``(n_jets, 4)`` array."""
        e, s = es
        return self.p4[e, s, : self.counts[e, s]]

    def to_awkward(self):
        """``(n_events, n_samples, var)`` awkward array of Momentum4D {px, py, pz, E} records."""
        import awkward as ak

        p4 = self.p4.get() if is_cupy(self.p4) else self.p4
        counts = self.counts.get() if is_cupy(self.counts) else self.counts
        n_jmax = p4.shape[2]
        mask = np.arange(n_jmax) < counts[..., None]
        flat = p4[mask]
        rec = ak.zip({"px": flat[:, 0], "py": flat[:, 1], "pz": flat[:, 2], "E": flat[:, 3]}, with_name="Momentum4D")
        inner = ak.unflatten(rec, counts.ravel())
        return ak.unflatten(inner, np.full(counts.shape[0], counts.shape[1]))


class ClusterResult:
    """The merge history of every (event, sample); jets and constituents are selectors.

    Attributes:
        history: ``(n_events, n_samples, n_max, 2)`` int32. Step t of event e merges
            jets ``(a, b)``, a < b, into the jet numbered ``counts[e] + (merges so far)``
            (particles are 0..counts[e]−1, FastJet's numbering); ``b = −1`` makes ``a``
            a final (inclusive) jet. Rows past ``counts[e]`` hold −2 (dij: NaN).
        dij: ``(n_events, n_samples, n_max)`` the distance of each chosen step
            (``d_ij`` or ``d_iB``, in anti-kT units GeV⁻²).
        score: ``(n_events, n_samples)`` ∂/∂R log p(history) (zeros when deterministic).
        R: ``(n_events,)``; alpha, n_samples, seed, p: as called. Arrays live on the
        input's array module (``xp``).
    """

    def __init__(self, p4, counts, R, alpha, n_samples, seed, history, dij, score, p=-1, backend=None):
        self.p4, self.counts, self.R, self.alpha = p4, counts, R, alpha
        self.n_samples, self.seed, self.p = n_samples, seed, p
        self.history, self.dij, self.score = history, dij, score
        self._backend = backend
        self._final = None

    @property
    def xp(self):
        """The array module the results live on (numpy or cupy)."""
        return _xp(self.history)

    def _replay(self):
        if self._final is None:
            xp = self.xp
            be = self._backend or get_backend("cpu", self.p4)
            n_ev, ns, n_max = self.history.shape[:3]
            det = self.alpha is None and ns > 1
            k_ns = 1 if det else ns
            h = xp.ascontiguousarray(self.history[:, :1] if det else self.history).reshape(n_ev * k_ns, n_max, 2)
            jets, nj, lab = be.replay(self.p4, self.counts, k_ns, h)
            shape = (n_ev, k_ns)
            jets, nj, lab = jets.reshape(*shape, n_max, 4), nj.reshape(shape), lab.reshape(*shape, n_max)
            if det:
                jets = xp.broadcast_to(jets, (n_ev, ns, n_max, 4))
                nj = xp.broadcast_to(nj, (n_ev, ns))
                lab = xp.broadcast_to(lab, (n_ev, ns, n_max))
            self._final = (jets, nj, lab)
        return self._final

    def _selected(self, ptmin):
        """Jets (pT-sorted), how many pass ptmin per (event, sample), particle labels."""
        jets, nj, lab = self._replay()
        xp = self.xp
        pt2 = jets[..., 0] ** 2 + jets[..., 1] ** 2
        valid = (xp.arange(jets.shape[2]) < nj[..., None]) & (pt2 >= ptmin * ptmin)
        return jets, valid.sum(axis=-1), lab  # sorted by pT, so the passing jets are a prefix

    def inclusive_jets(self, ptmin=0.0):
        """Final jets with ``pT ≥ ptmin``, sorted by decreasing pT (:class:`Jets`)."""
        jets, cnt, _ = self._selected(ptmin)
        n_j = int(cnt.max()) if cnt.size else 0
        out = jets[:, :, :n_j].copy()
        out[self.xp.arange(n_j) >= cnt[..., None]] = 0.0
        return Jets(out, cnt)

    def constituents(self, ptmin=0.0):
        """Per particle, the index of its jet in ``inclusive_jets(ptmin)`` (−1: jet below ptmin or padding).

        Returns:
            int64 array ``(n_events, n_samples, n_max)``.
        """
        _, cnt, lab = self._selected(ptmin)
        return self.xp.where(lab < cnt[..., None], lab, -1)

    def constituent_indices(self, event, sample=0, ptmin=0.0):
        """List (one per jet, pT-ordered) of particle-index arrays for one (event, sample)."""
        lab = self.constituents(ptmin)[event, sample, : int(self.counts[event])]
        n_j = int(lab.max()) + 1 if lab.size else 0
        return [self.xp.flatnonzero(lab == j) for j in range(n_j)]

    def mjj(self, ptmin=20.0):
        """Invariant mass of the two leading jets with pT ≥ ptmin; NaN with fewer than two.

        Returns:
            ``(n_events, n_samples)`` float64.
        """
        jets, cnt, _ = self._selected(ptmin)
        xp = self.xp
        if jets.shape[2] < 2:
            return xp.full(jets.shape[:2], xp.nan)
        s = jets[:, :, 0] + jets[:, :, 1]
        m2 = s[..., 3] ** 2 - s[..., 0] ** 2 - s[..., 1] ** 2 - s[..., 2] ** 2
        return xp.where(cnt >= 2, xp.sqrt(xp.maximum(m2, 0.0)), xp.nan)
