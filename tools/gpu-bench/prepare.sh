#!/usr/bin/env bash
# Runs HERE (the machine with .NET and ../shared), before the device call: puts what measure.sh needs from outside
# the repository into .ship/ (ignored by git, carried with the call) and checks the published binary.
#
#   bash tools/gpu-bench/prepare.sh [--publish]
#
# --publish first builds the NativeAOT binary into .ship/tern/ (dotnet publish ... -r linux-x64 -p:PublishAot=true).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SHARED=${SHARED_DATA:-$ROOT/../shared/data}
TOK_SRC=$SHARED/tokenizers/llama3

if [[ "${1:-}" == "--publish" ]]; then
    dotnet publish src/Tern.Cli -c Release -r linux-x64 -p:PublishAot=true -o .ship/tern
fi
# Symbols are not needed to run and would take most of the 64 MiB a call carries (Tern.Cli.dbg alone is ~28 MB).
if compgen -G '.ship/tern/*.dbg' >/dev/null || compgen -G '.ship/tern/*.pdb' >/dev/null; then
    echo "prepare: removing symbol files from .ship/tern: $(cd .ship/tern && ls -- *.dbg *.pdb 2>/dev/null | tr '\n' ' ')"
    rm -f .ship/tern/*.dbg .ship/tern/*.pdb
fi

if ! git check-ignore -q .ship/; then
    echo "prepare: .ship/ is not ignored by git; add '/.ship/' to .git/info/exclude" >&2
    exit 1
fi

mkdir -p .ship/tokenizer-llama3
for f in tokenizer.json tokenizer_config.json; do
    [[ -f "$TOK_SRC/$f" ]] || { echo "prepare: $TOK_SRC/$f is missing" >&2; exit 1; }
    install -m 644 "$TOK_SRC/$f" ".ship/tokenizer-llama3/$f"
done

TERN=.ship/tern/tern
[[ -f "$TERN" ]] || TERN=.ship/tern
if [[ ! -f "$TERN" || ! -x "$TERN" ]]; then
    echo "prepare: no executable .ship/tern/tern (or .ship/tern); publish with: bash tools/gpu-bench/prepare.sh --publish" >&2
    exit 1
fi
# The device machine is x86-64: an ELF header's machine field (bytes 18-19) must be 0x3e.
[[ "$(od -An -tx1 -j18 -N1 "$TERN" | tr -d ' ')" == 3e ]] || echo "prepare: warning: $TERN is not an x86-64 ELF executable" >&2
"$TERN" bench --help >/tmp/gpu-bench-help.txt 2>&1 || true
for flag in --device -ngl --override-tensor; do
    grep -q -- "$flag" /tmp/gpu-bench-help.txt || echo "prepare: warning: '$TERN bench --help' does not list $flag" >&2
done

# What travels: the repository's tracked and unignored files plus the carried .ship/, 64 MiB in all.
ship=$(du -sb .ship | cut -f1)
tree=$(git ls-files -co --exclude-standard -z | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "prepare: .ship/ is $(( ship / 1048576 )) MiB, the working tree $(( tree / 1048576 )) MiB (limit 64 MiB together)"
if (( ship + tree > 64 * 1048576 )); then
    echo "prepare: over the 64 MiB the device call carries" >&2
    exit 1
fi
ls -la .ship .ship/tokenizer-llama3 "$TERN"
echo "prepare: ready. Device call: command 'bash tools/gpu-bench/measure.sh', carry ['.ship'], timeout_s 600"
