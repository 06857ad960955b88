#!/usr/bin/env bash
# Runs on the device: Nsight Compute's full report (throughput, occupancy, stall reasons and its advice) for one
# launch of each decoding kernel, on the 2B-4T-shaped model that profile.sh builds.
#   bash tools/gpu-bench/profile-kernel.sh [kernel regex, default decode_ternary|decode_gate_up|attention_decode]
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/model.sh"
KERNELS=${1:-"regex:decode_ternary|decode_gate_up|attention_decode"}
ncu --graph-profiling node --set full -k "$KERNELS" --launch-skip 600 --launch-count 4 \
    "$TERN" bench -m "$MODEL" --device cuda -p 0 -n 8 -r 1 > "$OUT/ncu-full.txt" 2> "$OUT/ncu-full.err"
echo "ncu exit $?"
grep -E "^  [a-z_]+|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Block Limit|stall|Stall|spends|latency|Est. Speedup" "$OUT/ncu-full.txt" | cut -c1-260 | head -90
