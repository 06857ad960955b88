#!/usr/bin/env bash
# Issue 6's GPU measurement in one device call (see README.md beside this file). Run from the repository root:
#
#   bash tools/gpu-bench/measure.sh
#
# Steps (each under its own time limit, all under one deadline; a failed step is logged and the rest go on):
#   smi, bandwidth, synth (2B-4T-shaped random bf16 folder), convert (-> I2_S GGUF), sizes (bytes read per token),
#   tern_gpu (bench, head on the GPU), tern_run_gpu / tern_run_cpu (greedy tokens, GPU vs CPU),
#   tern_q8head (bench, head requantized to Q8_0 on the GPU), tern_headcpu (bench, tied head forced to the CPU), hf (transformers bf16, plain and online), smi_after (clocks,
#   temperature, throttle reasons), then the report:
#   $OUT/gpu-bench.json, $OUT/gpu-bench.md and $OUT/measure.log.
#
# Environment (all optional):
#   OUT               where the results go (the device tool sets it; default /tmp/gpu-bench-out)
#   TERN              the published tern executable (default .ship/tern/tern, or .ship/tern if that is the file)
#   TOKENIZER_DIR     Llama 3 tokenizer files (default .ship/tokenizer-llama3, made by prepare.sh)
#   GPU_BENCH_WORK    scratch folder for the 4.8 GB checkpoint and the GGUF (default /tmp/gpu-bench; reused if complete)
#   MEASURE_BUDGET_S  the whole script's deadline in seconds (default 570)
#   GPU_ARGS          tern's device flags (default "--device cuda -ngl 99")
#   HEAD_CPU_ARGS     the flags that force the tied head to the CPU (default "--override-tensor token_embd.weight=cpu")
#   PP, TG, REPS      bench sizes (default 512, 128, 3)
#   HF_MODES          transformers modes, in order (default plain,online: the faster baseline first); HF_DEVICE (default cuda)
#   PYTHON            the Python with torch and transformers (default python3)
#   SKIP_STEPS        comma-separated steps to leave out (e.g. hf,tern_run_cpu when only Tern changed)
#   MEASURE_DRY=1     no GPU: skips smi, bandwidth on the CPU (128 MiB), a 1-layer checkpoint (DRY_LAYERS), GPU_ARGS
#                     and HEAD_CPU_ARGS empty, small PP/TG/REPS, HF on the CPU in plain mode; for checking the script.
set -u
set -o pipefail
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
START=$(date +%s)
export OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
export WORK=${GPU_BENCH_WORK:-/tmp/gpu-bench}
export STEPS=$WORK/steps
rm -rf "$STEPS"
mkdir -p "$STEPS"
exec > >(tee -a "$OUT/measure.log") 2>&1

DRY=${MEASURE_DRY:-0}
BUDGET=${MEASURE_BUDGET_S:-570}
RESERVE=20   # seconds kept for the report
export PYTHON=${PYTHON:-python3}
if [[ -z "${TERN:-}" ]]; then
    if [[ -f .ship/tern/tern ]]; then TERN=$ROOT/.ship/tern/tern; else TERN=$ROOT/.ship/tern; fi
fi
export TERN
export TOKENIZER_DIR=${TOKENIZER_DIR:-$ROOT/.ship/tokenizer-llama3}
if [[ "$DRY" == 1 ]]; then
    export GPU_ARGS=${GPU_ARGS-} HEAD_CPU_ARGS=${HEAD_CPU_ARGS-}
    export PP=${PP:-32} TG=${TG:-8} REPS=${REPS:-2} LAYERS=${DRY_LAYERS:-1}
    export HF_MODES=${HF_MODES:-plain} HF_DEVICE=${HF_DEVICE:-cpu} BW_ARGS="--device cpu --gib 0.125 --reps 3"
else
    export GPU_ARGS=${GPU_ARGS-"--device cuda -ngl 99"}
    export HEAD_CPU_ARGS=${HEAD_CPU_ARGS-"--override-tensor token_embd.weight=cpu"}
    export PP=${PP:-512} TG=${TG:-128} REPS=${REPS:-3} LAYERS=30
    export HF_MODES=${HF_MODES:-plain,online} HF_DEVICE=${HF_DEVICE:-cuda} BW_ARGS="--gib 4 --reps 20"
fi
export HF_DIR=$WORK/hf-2b4t-l$LAYERS
export MODEL=$WORK/2b4t-l$LAYERS-i2_s.gguf
export PROMPT="The capital of France is"
export RUN_N=32

log() { echo "[$(date +%H:%M:%S) +$(( $(date +%s) - START ))s] $*"; }
left() { echo $(( START + BUDGET - RESERVE - $(date +%s) )); }

# step NAME LIMIT_S FUNCTION: runs FUNCTION (exported) under min(LIMIT_S, time left), output to the log and
# $STEPS/NAME.log, and records {step, rc, seconds, limit} in $STEPS/NAME.status.
step() {
    local name=$1 limit=$2 fn=$3 l rc t0 t1
    if [[ ",${SKIP_STEPS:-}," == *",$name,"* ]]; then
        log "== $name: SKIPPED (SKIP_STEPS)"
        printf '{"step":"%s","rc":null,"skipped":"SKIP_STEPS","seconds":0,"limit":%d}\n' "$name" "$limit" >"$STEPS/$name.status"
        return
    fi
    l=$(left)
    (( limit > l )) && limit=$l
    if (( limit < 5 )); then
        log "== $name: SKIPPED (no time left)"
        printf '{"step":"%s","rc":null,"skipped":"no time left","seconds":0,"limit":%d}\n' "$name" "$limit" >"$STEPS/$name.status"
        return
    fi
    log "== $name: start (limit ${limit}s)"
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" bash -e -o pipefail -c "$fn" 2>&1 | tee "$STEPS/$name.log"
    rc=${PIPESTATUS[0]}
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
    if (( rc == 0 )); then
        log "== $name: ok (${secs}s)"
    elif (( rc == 124 || rc == 137 )); then
        log "== $name: TIMED OUT after ${secs}s (limit ${limit}s)"
    else
        log "== $name: FAILED rc=$rc (${secs}s)"
    fi
    printf '{"step":"%s","rc":%d,"seconds":%s,"limit":%d}\n' "$name" "$rc" "$secs" "$limit" >"$STEPS/$name.status"
}

s_smi() {
    nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,temperature.gpu,utilization.gpu \
        --format=csv | tee "$STEPS/smi.csv"
}

s_smi_after() {
    nvidia-smi --query-gpu=clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv | tee "$STEPS/smi-after.csv"
    nvidia-smi --query-gpu=clocks_event_reasons.active --format=csv || nvidia-smi --query-gpu=clocks_throttle_reasons.active --format=csv || true
}

s_env() {
    uname -a; nproc; free -g | head -2; df -h /tmp | tail -1
    ls -la "$TERN" || echo "no tern executable at $TERN"
    "$PYTHON" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' || true
    "$PYTHON" -c 'import transformers; print("transformers", transformers.__version__)' || true
}

# shellcheck disable=SC2086
s_bandwidth() { "$PYTHON" "$HERE/bandwidth.py" --json "$STEPS/bandwidth.json" $BW_ARGS; }

s_synth() {
    if [[ -f "$HF_DIR/.complete" ]]; then echo "reusing $HF_DIR"; return 0; fi
    rm -rf "$HF_DIR"
    "$PYTHON" bench/scripts/synthetic_bitnet_2b4t.py "$HF_DIR" --layers "$LAYERS" --jobs "$(nproc)" --tokenizer-dir "$TOKENIZER_DIR" \
        && touch "$HF_DIR/.complete" && ls -la "$HF_DIR"
}

s_convert() {
    if [[ -f "$MODEL.complete" ]]; then echo "reusing $MODEL"; return 0; fi
    rm -f "$MODEL"
    "$TERN" convert "$HF_DIR" -o "$MODEL" --type i2_s && touch "$MODEL.complete" && ls -la "$MODEL"
}

s_sizes() {
    "$TERN" info "$MODEL" --json >"$STEPS/info.json" || echo "tern info failed; sizes go on without the cross-check"
    local check=()
    [[ -s "$STEPS/info.json" ]] && check=(--check-info "$STEPS/info.json")
    "$PYTHON" "$HERE/gguf_sizes.py" "$MODEL" --json "$STEPS/sizes.json" --tg "$TG" "${check[@]}"
    rm -f "$STEPS/info.json"   # 1 MB of tokenizer strings; sizes.json keeps what matters
}

# shellcheck disable=SC2086 # GPU_ARGS and HEAD_CPU_ARGS are word lists
s_tern_gpu() { "$TERN" bench -m "$MODEL" $GPU_ARGS -p "$PP" -n "$TG" -r "$REPS" -o json >"$STEPS/tern-gpu.json"; cat "$STEPS/tern-gpu.json"; }
# shellcheck disable=SC2086
s_tern_q8head() { "$TERN" bench -m "$MODEL" $GPU_ARGS --head-type q8_0 -p "$PP" -n "$TG" -r "$REPS" -o json >"$STEPS/tern-q8head.json"; cat "$STEPS/tern-q8head.json"; }
s_tern_headcpu() { "$TERN" bench -m "$MODEL" $GPU_ARGS $HEAD_CPU_ARGS -p "$PP" -n "$TG" -r "$REPS" -o json >"$STEPS/tern-headcpu.json"; cat "$STEPS/tern-headcpu.json"; }
# shellcheck disable=SC2086
s_tern_run_gpu() { "$TERN" run -m "$MODEL" $GPU_ARGS -p "$PROMPT" -n "$RUN_N" --temp 0 --json >"$STEPS/run-gpu.json"; cat "$STEPS/run-gpu.json"; }
s_tern_run_cpu() { "$TERN" run -m "$MODEL" -p "$PROMPT" -n "$RUN_N" --temp 0 --json >"$STEPS/run-cpu.json"; cat "$STEPS/run-cpu.json"; }

s_hf() {
    local budget=$(( $(left) - 45 ))
    (( budget < 30 )) && budget=30
    "$PYTHON" "$HERE/hf_bench.py" "$HF_DIR" --json "$STEPS/hf.json" --modes "$HF_MODES" --device "$HF_DEVICE" \
        --pp "$PP" --tg "$TG" --reps "$REPS" --gen-reps 2 --budget-s "$budget"
}

export HERE START BUDGET RESERVE
export -f log left s_smi s_smi_after s_env s_bandwidth s_synth s_convert s_sizes s_tern_gpu s_tern_q8head s_tern_headcpu s_tern_run_gpu s_tern_run_cpu s_hf

log "gpu-bench: repo $ROOT, tern $TERN, work $WORK, out $OUT, budget ${BUDGET}s, dry=$DRY"
step env 30 s_env
[[ "$DRY" != 1 ]] && step smi 20 s_smi
step bandwidth 90 s_bandwidth
step synth 150 s_synth
step convert 180 s_convert
step sizes 60 s_sizes
step tern_gpu 150 s_tern_gpu
step tern_run_gpu 60 s_tern_run_gpu
step tern_run_cpu 60 s_tern_run_cpu
step tern_q8head 150 s_tern_q8head
step tern_headcpu 150 s_tern_headcpu
step hf 400 s_hf
[[ "$DRY" != 1 ]] && step smi_after 10 s_smi_after

log "== report"
timeout -k 5 60 "$PYTHON" "$HERE/report.py" --steps "$STEPS" --out "$OUT" --dry "$DRY" || log "report FAILED rc=$?"
log "gpu-bench: done in $(( $(date +%s) - START ))s; results in $OUT"
