#!/usr/bin/env bash
# Checks tools/gpu-bench on a machine with no GPU (this project's dev machine): compiles the Python, reads the shipped
# GGUF with gguf_sizes.py against `tern info --json`, then runs measure.sh dry (1-layer checkpoint, CPU, tiny sizes)
# with the stand-in transformers of selftest/transformers when the real one is not installed.
#
#   bash tools/gpu-bench/selftest/selftest.sh
#
# TERN: a tern executable (default .ship/tern/tern; else a wrapper around the Release build of src/Tern.Cli).
# PYTHON: a Python with torch (default: python3 if it imports torch, else /usr/bin/python3).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
WORK=${GPU_BENCH_WORK:-/tmp/gpu-bench-selftest}
mkdir -p "$WORK"

if [[ -z "${TERN:-}" ]]; then
    if [[ -x .ship/tern/tern ]]; then
        TERN=$ROOT/.ship/tern/tern
    else
        dll=src/Tern.Cli/bin/Release/net10.0/Tern.Cli.dll
        [[ -f $dll ]] || dotnet build src/Tern.Cli -c Release -v q
        printf '#!/bin/sh\nexec dotnet %q "$@"\n' "$ROOT/$dll" >"$WORK/tern"
        chmod +x "$WORK/tern"
        TERN=$WORK/tern
    fi
fi
if [[ -z "${PYTHON:-}" ]]; then
    if python3 -c 'import torch' 2>/dev/null; then PYTHON=python3; else PYTHON=/usr/bin/python3; fi
fi
"$PYTHON" -c 'import torch' || { echo "selftest: $PYTHON has no torch" >&2; exit 1; }

echo "== compile (no __pycache__ left in the tree)"
export PYTHONDONTWRITEBYTECODE=1
python3 -c 'import sys; [compile(open(f).read(), f, "exec") for f in sys.argv[1:]]' \
    "$HERE"/*.py "$HERE"/selftest/transformers/__init__.py bench/scripts/synthetic_bitnet_2b4t.py
bash -n "$HERE/measure.sh" "$HERE/prepare.sh"

echo "== gguf_sizes.py vs tern info --json on models/shakespeare-bitnet-b1.58-3M.gguf"
"$TERN" info models/shakespeare-bitnet-b1.58-3M.gguf --json >"$WORK/info-3m.json"
python3 "$HERE/gguf_sizes.py" models/shakespeare-bitnet-b1.58-3M.gguf --check-info "$WORK/info-3m.json"

echo "== measure.sh, dry"
extra=()
if ! "$PYTHON" -c 'import transformers' 2>/dev/null; then
    echo "(no transformers in $PYTHON: hf_bench.py runs against the stand-in in selftest/transformers)"
    extra=(PYTHONPATH="$HERE/selftest${PYTHONPATH:+:$PYTHONPATH}")
fi
rm -rf "$WORK/out"
env "${extra[@]}" MEASURE_DRY=1 TERN="$TERN" PYTHON="$PYTHON" GPU_BENCH_WORK="$WORK/work" OUT="$WORK/out" \
    TOKENIZER_DIR="${TOKENIZER_DIR:-$ROOT/../shared/data/tokenizers/llama3}" bash "$HERE/measure.sh"

echo "== results"
ls -la "$WORK/out"
python3 - "$WORK/out/gpu-bench.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
bad = [s for s in r["steps"] if s.get("rc") not in (0,)]
print("steps:", ", ".join(f"{s['step']}={s.get('rc')}" for s in r["steps"]))
assert r["sizes_per_token"]["bytes_per_token"] > 0, "no bytes per token"
assert r["roofline"]["tokens_per_s"], "no roofline (bandwidth on the CPU in a dry run)"
assert r["model"]["check_info"]["agrees"], "gguf_sizes.py disagrees with tern info"
assert r["tern"]["head_on_gpu"].get("tg"), "no tern bench tg result"
assert r["hf"]["modes"]["plain"].get("tg" + str(r["sizes_per_token"]["tg"])), "no transformers tg result"
if bad:
    sys.exit(f"selftest: steps failed: {bad}")
print("selftest: ok")
EOF
