"""Shared helpers of the analysis tests."""


def write_small_samples(folder, n):
    """The first ``n`` events of each embedded process as ``.npz`` files in ``folder``, cross sections kept.

    ``meta["n_events"]`` is set to ``n``, so the weights σ·L/n scale with the subset.
    Returns ``{process: path}``.
    """
    from apps.analysis.samples import DEFAULT_FILES
    from apps.jets import load_events, save_events

    files = {}
    for name, path in DEFAULT_FILES.items():
        ev = load_events(path).subset(slice(0, n))
        ev.meta["n_events"] = n
        files[name] = str(folder / f"{name}.npz")
        save_events(ev, files[name])
    return files
