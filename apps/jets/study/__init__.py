"""Studies built on the clustering library: the jet-radius optimisation, radius maps, distributed runs.

* ``optimize`` — losses, the batched program of R, global / per-event / multi-seed optimisation, scans;
* ``radius_map`` — a per-event R from the leading-jet pT (fit and apply);
* ``robust`` — robust resonance summaries (median, IQR, window fraction ± bootstrap);
* ``distributed`` — the optimisation and the scan over event partitions (Dask or any executor).

Modules are imported by name (``from apps.jets.study import optimize``); nothing loads here.
"""
