#!/usr/bin/env bash
# Every GPU check and benchmark in one run, for a machine with one CUDA GPU whose
# python3 already holds a CUDA build of torch (numpy, scipy, pandas, scikit-learn,
# matplotlib, tqdm) but not nibabel, nilearn or mne: those come as wheels in .whl/.
# Each step has its own time limit so that one slow step cannot take the others down.
# Usage (from the repository root): bash benchmarks/gpu_checks.sh [OUTPUT_DIR]
set -u
mkdir -p "${1:-benchmarks/output}"
out=$(cd "${1:-benchmarks/output}" && pwd)
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -c "import mlem_neuro, nibabel, nilearn, mne" || { echo "imports failed"; exit 1; }

step() {  # step SECONDS NAME COMMAND...
    local limit=$1 name=$2
    shift 2
    echo "=== $name (limit ${limit}s)"
    local started=$SECONDS
    timeout "$limit" "$@" 2>&1 | grep -v -i "warn" | tee "$out/gpu_$name.txt"
    echo "=== $name: exit ${PIPESTATUS[0]}, $((SECONDS - started)) s"
}

step 75 tests python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py
cd benchmarks
step 60 many_units python3 bench_many_units.py --device cuda --units 50000 --loop-units 50 \
    --chunk-sizes ""
step 90 searchlight python3 bench_searchlight.py --resolution 3 --device cuda
step 90 searchlight_cv python3 bench_searchlight.py --resolution 3 --device cuda --cv auto
step 90 meeg python3 bench_meeg.py spatial time generalization --device cuda
step 100 stats_searchlight python3 bench_stats.py searchlight --device cuda --permutations 100
step 45 stats_speed python3 bench_stats.py speed --device cuda --measured-permutations 50
