#!/usr/bin/env bash
# Runs on the device: per-kernel GPU time of Tern's decoding step on the 2B-4T-shaped model, with Nsight Compute
# (ncu: each kernel replayed alone, so the figures are the kernels' own durations, without launch gaps).
#   bash tools/gpu-bench/profile.sh [decode steps profiled, default 2]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/model.sh"
STEPS=${1:-2}
# A decoding step is one graph of about 400 kernels; skip the first steps (capture, warm-up).
ncu --graph-profiling node --metrics gpu__time_duration.sum --launch-skip 2000 --launch-count $((STEPS * 400)) \
    --print-summary per-kernel --csv "$TERN" bench -m "$MODEL" --device cuda -p 0 -n 16 -r 1 > "$OUT/ncu.csv" 2> "$OUT/ncu.err"
echo "ncu exit $?"
python3 - "$OUT/ncu.csv" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 5]
head = rows[0]; print(head)
for r in rows[1:60]: print(r)
PY
tail -5 "$OUT/ncu.err"
