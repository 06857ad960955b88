# Sourced by profile.sh and profile-kernel.sh on the device: sets OUT, TERN and MODEL, and builds the 2B-4T-shaped
# I2_S model that measure.sh also builds (reused when the machine still has it).
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
WORK=${GPU_BENCH_WORK:-/tmp/gpu-bench}; mkdir -p "$WORK"
TERN=${TERN:-.ship/tern/tern}
MODEL=$WORK/2b4t-l30-i2_s.gguf
if [[ ! -f $MODEL.complete ]]; then
    python3 bench/scripts/synthetic_bitnet_2b4t.py "$WORK/hf" --layers 30 --jobs "$(nproc)" --tokenizer-dir .ship/tokenizer-llama3 >/dev/null
    "$TERN" convert "$WORK/hf" -o "$MODEL" --type i2_s >/dev/null && touch "$MODEL.complete"
fi
