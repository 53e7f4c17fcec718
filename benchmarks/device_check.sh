#!/usr/bin/env bash
# One prepared run of the GPU checks (issue 14) for a session that is lent a device.
#
# Here, once (wheels the device image lacks; see docs/jets_gpu.md "Running the device checks"):
#     bash benchmarks/device_check.sh --wheels
# then, through the device tool's `run` with carry [".whl"] and timeout_s 580:
#     bash benchmarks/device_check.sh
# Everything it prints is also written to $OUT (device.log, jets_gpu.txt, optimize_*.json), so a run
# cut short by its limit still returns what it had.  Steps, each with its own time limit so that one
# slow step cannot eat the others' budget:
#   1. environment: GPU name, CuPy/CUDA/driver versions;
#   2. tests/jets/test_backends.py on the real device (the same checks CI runs emulated, plus the
#      cupy cases that CI skips: identical histories to the CPU backend for the same seed);
#   3. python -m benchmarks.jets_gpu at full size (clusterings/s at 1/10/100/1000 samples per event,
#      the 1000 events x 100 histories R-gradient, CPU backend in the same run);
#   4. stochgrad-jets optimize --backend cuda from R0 = 0.4 and 1.5 on 1000 events, and the CPU
#      backend's time for the same command on the same machine.
set -u
if [ "${1:-}" = "--wheels" ]; then
    # autograd, awkward(+cpp), vector, fastjet are not in the device image (KINDS.md lists it).
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
    plat=""
    for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
             manylinux2014_x86_64 manylinux1_x86_64; do plat="$plat --platform $p"; done
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $plat \
        -d .whl autograd awkward awkward-cpp vector fastjet || exit 2
    ls -l .whl
    exit 0
fi

OUT=${OUT:-/tmp/device_out}
mkdir -p "$OUT"
exec > >(tee "$OUT/device.log") 2>&1
export PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        .whl/*.whl || exit 2
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
step() { echo; echo "=== $1 ($(date -u +%T))"; }

step "1. environment"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import cupy, numba, numpy; print('cupy', cupy.__version__, 'cuda runtime', cupy.cuda.runtime.runtimeGetVersion(), 'numba', numba.__version__, 'numpy', numpy.__version__)"
nproc

step "2. backend tests on the device"
timeout 150 python3 -m pytest -q -x tests/jets/test_backends.py -rs

step "3. benchmark"
timeout 200 python3 -m benchmarks.jets_gpu | tee "$OUT/jets_gpu.txt"

step "4. optimisation, cuda vs cpu"
ev=/tmp/events_1000.npz
python3 - "$ev" <<'PY'
import sys, numpy as np, apps.jets as J
ev = J.load_default_events()            # 300 shipped events, tiled to 1000 (each copy its own streams)
idx = np.arange(1000) % len(ev)
np.savez(sys.argv[1], p4=ev.p4[idx], counts=ev.counts[idx])
PY
for be in cuda cpu; do
    for r0 in 0.4 1.5; do
        s=$(date +%s.%N)
        timeout 40 python3 -m apps.jets optimize --events "$ev" --backend $be --r0 $r0 --seeds 1 --steps 30 --samples 8 \
            --json "$OUT/optimize_${be}_${r0}.json" --force >/dev/null
        echo "optimize --backend $be --r0 $r0: rc $?, $(python3 -c "import time; print(round(time.time() - $s, 1))") s"
    done
done
