#!/usr/bin/env bash
# The device checks in one device call: the published Tern.Cuda.DeviceTests (.ship/devtests) on the small models in
# .ship/models and on the 2B-4T-shaped model that measure.sh builds (model.sh), output in $OUT/cuda-inference-checks.txt.
# Then, unless CHECKS_BENCH=0, a short bench of that model on the GPU ($OUT/bench.json).
#
#   bash tools/gpu-bench/checks.sh          (run tool, carry [".ship"])
set -u
source "$(dirname "${BASH_SOURCE[0]}")/model.sh"
models=$(ls .ship/models/*.gguf 2>/dev/null | tr '\n' ',')
.ship/devtests/Tern.Cuda.DeviceTests --models "${models}${MODEL}" > "$OUT/cuda-inference-checks.txt" 2>&1
status=$?
grep -v '^PASS' "$OUT/cuda-inference-checks.txt" | tail -40
echo "checks: exit $status, $(grep -c '^PASS' "$OUT/cuda-inference-checks.txt") passed, $(grep -c '^FAIL' "$OUT/cuda-inference-checks.txt") failed"
if [[ "${CHECKS_BENCH:-1}" != 0 ]]; then
    "$TERN" bench -m "$MODEL" --device cuda -ngl 99 -p 512 -n 128 -r "${REPS:-3}" ${BENCH_ARGS:-} -o json > "$OUT/bench.json" 2> "$OUT/bench.err"
    echo "bench: exit $?"; tail -3 "$OUT/bench.err"
    python3 -c "import json,sys; [print('pp%d tg%d' % (r['n_prompt'], r['n_gen']), round(r['avg_ts'],1), r['placement']) for r in json.load(open(sys.argv[1]))]" "$OUT/bench.json"
fi
exit $status
