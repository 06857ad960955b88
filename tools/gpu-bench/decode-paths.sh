#!/usr/bin/env bash
# On the device, in one call: every decoding path of the launched kernels, each with its tokens against the CPU's and
# its tg128, then where the default's and the fastest candidate's step time goes (KERNEL_TIMELINE, STEP_TIMING).
# Paths: the default; attention's cached keys and values staged in shared memory (TERN_CUDA_ATTENTION_STAGING=auto);
# the input quantized from registers (TERN_CUDA_DEFINES=DECODE_DIRECT_QUANTIZE); both; the persistent step
# (TERN_CUDA_DECODE=step). Carry .ship (tools/gpu-bench/prepare.sh); about three minutes on a fresh H100 machine.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/model.sh"
prompt="Once upon a time"
cpu=$("$TERN" run -m "$MODEL" --device cpu -p "$prompt" -n 40 --temp 0 2>/dev/null | md5sum | cut -c1-12)
echo "cpu tokens $cpu"
paths=(
    "default|"
    "staging|TERN_CUDA_ATTENTION_STAGING=auto"
    "direct|TERN_CUDA_DEFINES=DECODE_DIRECT_QUANTIZE"
    "staging+direct|TERN_CUDA_ATTENTION_STAGING=auto TERN_CUDA_DEFINES=DECODE_DIRECT_QUANTIZE"
    "step|TERN_CUDA_DECODE=step"
)
for entry in "${paths[@]}"; do
    name=${entry%%|*}
    settings=${entry#*|}
    tokens=$(env $settings "$TERN" run -m "$MODEL" --device cuda -ngl 99 -p "$prompt" -n 40 --temp 0 2>/dev/null | md5sum | cut -c1-12)
    verdict=$([[ $tokens == "$cpu" ]] && echo "same tokens as the CPU" || echo "TOKENS DIFFER ($tokens)")
    tg=$(env $settings "$TERN" bench -m "$MODEL" --device cuda -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128 | awk -F'│' '{print $(NF-1)}')
    printf '%-16s tg128 %s t/s, %s\n' "$name" "$tg" "$verdict"
done
for entry in "default|" "staging+direct|TERN_CUDA_ATTENTION_STAGING=auto"; do
    name=${entry%%|*}
    defines="KERNEL_TIMELINE STEP_TIMING"
    [[ $name == *direct* ]] && defines="$defines DECODE_DIRECT_QUANTIZE"
    echo "== $name"
    env ${entry#*|} TERN_CUDA_DEFINES="$defines" "$TERN" bench -m "$MODEL" --device cuda -ngl 99 -p 0 -n 128 -r 1 2>&1 \
        | grep -A9 "timeline step 64" | grep -v "timeline step 192"
done
