#!/usr/bin/env bash
# A GPU machine's whole session in one command: the CUDA path
# (check_cuda.py), then the test suite with device="auto" on the GPU, in
# groups that each print their failures before their own time limit, then
# training throughput on the GPU against the same machine's CPU.
#
# The GPU machine has torch (CUDA), scikit-learn, pandas and joblib but no
# network; the tests' other needs travel as wheels. Here, before the run:
#
#     bash benchmarks/check_gpu.sh prepare   # wheels into .devwheels/ (git-ignored)
#
# then, on the GPU machine, from the repository root with .devwheels carried:
#
#     bash benchmarks/check_gpu.sh
#
# Files land in $OUT (default /tmp/out). About 9 minutes on an H200.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=.devwheels

if [ "${1:-}" = prepare ]; then
    mkdir -p $WHEELS
    grep -qx "/$WHEELS/" .git/info/exclude 2>/dev/null || echo "/$WHEELS/" >>.git/info/exclude
    for package in pytest pluggy iniconfig packaging imbalanced-learn sklearn-compat; do
        version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('$package'))")
        .venv/bin/pip download -q --no-deps -d $WHEELS "$package==$version"
    done
    exit 0
fi

export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import sys, torch, sklearn, pandas; print('python', sys.version.split()[0], 'torch', torch.__version__, 'sklearn', sklearn.__version__, 'pandas', pandas.__version__)"
for wheel in $WHEELS/*.whl; do python3 -m zipfile -e "$wheel" /tmp/pylib; done
export PYTHONPATH=$PWD:/tmp/pylib

echo "== the CUDA path"
timeout 90 python3 benchmarks/check_cuda.py 2>&1 | tee "$OUT/check_cuda.log"

run_tests() {  # name, seconds, paths...
    local name=$1 seconds=$2
    shift 2
    echo "== tests: $name"
    timeout "$seconds" python3 -m pytest -q -p no:cacheprovider --tb=short -rfE \
        -W ignore::DeprecationWarning -W ignore::FutureWarning "$@" 2>&1 |
        tee "$OUT/tests_$name.log" | tail -40
}
run_tests doctests 40 skvae
run_tests anomaly_base 120 tests/test_anomaly.py tests/test_base.py
run_tests common 150 tests/test_common.py
run_tests rest 200 tests --ignore=tests/test_anomaly.py --ignore=tests/test_base.py \
    --ignore=tests/test_common.py

echo "== training throughput, GPU and CPU"
for device in cuda cpu; do
    timeout 60 python3 benchmarks/bench_speed.py --sections hardware synthetic \
        --rows 10000 100000 --cols 30 --methods VAEAnomalyDetector \
        VAEAnomalyDetector:batch_size=4096 --device $device \
        --out "$OUT/speed_$device.csv" 2>&1 | tail -4
done
