#!/usr/bin/env python3
"""Gathers measure.sh's step results into $OUT/gpu-bench.json and a human table $OUT/gpu-bench.md (also printed).

    python3 tools/gpu-bench/report.py --steps STEPS_DIR --out OUT_DIR [--dry 0|1]

Every input is optional: a missing or broken one becomes a "missing" cell and an entry in "problems", never a crash.
"""
import argparse, glob, json, os, sys, time

# ik_llama.cpp PR #1 ("Offload Bitnet token embeddings to the GPU", 2024-07-26): Bitnet-1.58b 3B, RTX 4080 host
# Ryzen 7950X, llama-bench t/s with token_embd (the tied head) on the GPU (PR) vs on the CPU (main).
IK_PR1 = {
    "source": "https://github.com/ikawrakow/ik_llama.cpp/pull/1",
    "setup": "Bitnet-1.58b (3B), CUDA on an RTX 4080, host Ryzen 7950X",
    "rows": [
        {"type": "IQ2_BN", "test": "tg128", "gpu_head": 322.10, "cpu_head": 241.34, "speedup": 1.325},
        {"type": "IQ1_BN", "test": "tg128", "gpu_head": 301.44, "cpu_head": 229.21, "speedup": 1.315},
        {"type": "IQ2_BN", "test": "pp512", "gpu_head": 10780, "cpu_head": 9811, "speedup": 1.099},
        {"type": "IQ1_BN", "test": "pp512", "gpu_head": 10661, "cpu_head": 9655, "speedup": 1.104},
    ],
}
TARGETS = {"tg_roofline_fraction": 0.40, "tg_vs_hf": 3.0, "pp_tokens_per_s": 20000}


def load_json(path, problems):
    if not os.path.exists(path):
        problems.append(f"{os.path.basename(path)}: missing")
        return None
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        problems.append(f"{os.path.basename(path)}: unreadable ({e})")
        return None
    # The JSON may follow log lines (a program printing progress to stdout): try each line that opens one.
    decoder, pos, err = json.JSONDecoder(), 0, "empty"
    for line in text.splitlines(keepends=True):
        if line.lstrip()[:1] in ("{", "["):
            try:
                return decoder.raw_decode(text, pos + len(line) - len(line.lstrip()))[0]
            except ValueError as e:
                err = str(e)
        pos += len(line)
    problems.append(f"{os.path.basename(path)}: unreadable ({err})")
    return None


def tern_bench(rows):
    """llama-bench-style rows -> {"pp": {...}, "tg": {...}}."""
    out = {}
    for r in rows or []:
        key = "pp" if r.get("n_gen", 0) == 0 else "tg"
        out[key] = {"test": f"{key}{r['n_prompt'] if key == 'pp' else r['n_gen']}", "avg_ts": r.get("avg_ts"),
                    "stddev_ts": r.get("stddev_ts"), "samples_ts": r.get("samples_ts"),
                    "backends": r.get("backends"), "n_threads": r.get("n_threads")}
    return out


def ratio(a, b):
    return a / b if a and b else None


def fmt(x, nd=1, unit=""):
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{nd}f}{unit}"
    return f"{x:,}{unit}"


def ts(d):
    return None if not d else f"{d['avg_ts']:,.1f} ± {d.get('stddev_ts') or 0:,.1f}"


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dry", default="0")
    a = ap.parse_args()
    S = lambda name: os.path.join(a.steps, name)  # noqa: E731
    problems = []

    steps = []
    for p in sorted(glob.glob(S("*.status")), key=os.path.getmtime):
        try:
            with open(p) as f:
                steps.append(json.loads(f.read()))
        except ValueError:
            problems.append(f"{p}: unreadable status")
    smi = open(S("smi.csv")).read().strip().splitlines() if os.path.exists(S("smi.csv")) else []
    smi_after = open(S("smi-after.csv")).read().strip().splitlines() if os.path.exists(S("smi-after.csv")) else []
    bw = load_json(S("bandwidth.json"), problems)
    sizes = load_json(S("sizes.json"), problems)
    tg_gpu = tern_bench(load_json(S("tern-gpu.json"), problems))
    tg_cpuhead = tern_bench(load_json(S("tern-headcpu.json"), problems))
    tg_q8head = tern_bench(load_json(S("tern-q8head.json"), problems)) if os.path.exists(S("tern-q8head.json")) else {}
    run_gpu = load_json(S("run-gpu.json"), problems)
    run_cpu = load_json(S("run-cpu.json"), problems)
    hf = load_json(S("hf.json"), problems)

    pt = (sizes or {}).get("per_token", {})
    bytes_tok = pt.get("bytes_per_token")
    bw_rw = (bw or {}).get("copy_rw_gbs_best")
    roofline = bw_rw * 1e9 / bytes_tok if bw_rw and bytes_tok else None
    roofline_kv = bw_rw * 1e9 / pt["bytes_per_token_with_kv_mean_tg"] if bw_rw and pt.get("bytes_per_token_with_kv_mean_tg") else None
    roofline_read = bw["read_gbs_best"] * 1e9 / bytes_tok if bw and bytes_tok and bw.get("read_gbs_best") else None

    tern_tg = (tg_gpu.get("tg") or {}).get("avg_ts")
    tern_pp = (tg_gpu.get("pp") or {}).get("avg_ts")
    cpuh_tg = (tg_cpuhead.get("tg") or {}).get("avg_ts")
    cpuh_pp = (tg_cpuhead.get("pp") or {}).get("avg_ts")

    hf_modes = (hf or {}).get("modes", {})
    tgk = next((k for m in hf_modes.values() for k in m if k.startswith("tg")), None)
    ppk = next((k for m in hf_modes.values() for k in m if k.startswith("pp") and k != "pp_logits_to_keep"), None)
    genk = next((k for m in hf_modes.values() for k in m if k.startswith("generate")), None)

    def hfv(mode, key):
        return ((hf_modes.get(mode) or {}).get(key) or {}).get("avg_ts") if key else None

    hf_best_tg = max([v for v in (hfv(m, tgk) for m in hf_modes) if v] + [v for v in (hfv(m, genk) for m in hf_modes) if v], default=None)

    tokens_gpu = (run_gpu or {}).get("tokens") or []
    tokens_cpu = (run_cpu or {}).get("tokens") or []
    agree = 0
    for x, y in zip(tokens_gpu, tokens_cpu):
        if x != y:
            break
        agree += 1

    checks = {
        "tg_roofline_fraction": ratio(tern_tg, roofline),
        "tg_roofline_met": None if not (tern_tg and roofline) else tern_tg >= TARGETS["tg_roofline_fraction"] * roofline,
        "tg_vs_hf_best": ratio(tern_tg, hf_best_tg),
        "tg_vs_hf_met": None if not (tern_tg and hf_best_tg) else tern_tg >= TARGETS["tg_vs_hf"] * hf_best_tg,
        "pp_met": None if not tern_pp else tern_pp >= TARGETS["pp_tokens_per_s"],
        "head_gpu_over_cpu_tg": ratio(tern_tg, cpuh_tg),
        "head_gpu_over_cpu_pp": ratio(tern_pp, cpuh_pp),
        "greedy_tokens_gpu_cpu_agree": agree if tokens_gpu and tokens_cpu else None,
        "greedy_tokens_compared": min(len(tokens_gpu), len(tokens_cpu)) if tokens_gpu and tokens_cpu else None,
    }
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "dry": a.dry == "1", "nvidia_smi": smi, "nvidia_smi_after": smi_after,
        "targets": TARGETS, "bandwidth": bw, "sizes_per_token": pt,
        "model": {k: (sizes or {}).get(k) for k in ("path", "file_size", "type_id_dialect", "check_info")},
        "roofline": {"convention": "tokens/s = device-to-device copy bandwidth (bytes read + bytes written, best of N) / bytes read per token (weights)",
                     "tokens_per_s": roofline, "tokens_per_s_with_kv_mean_tg": roofline_kv,
                     "tokens_per_s_from_read_only_sum": roofline_read},
        "tern": {"head_on_gpu": tg_gpu, "head_q8_0_on_gpu": tg_q8head, "head_on_cpu": tg_cpuhead,
                 "run_gpu": run_gpu, "run_cpu": {k: v for k, v in (run_cpu or {}).items() if k != "text"} if run_cpu else None},
        "hf": hf, "checks": checks, "ik_llama_cpp_pr1": IK_PR1, "steps": steps, "problems": problems,
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "gpu-bench.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)

    L = []
    dev = (bw or {}).get("device") or (smi[1].split(",")[0] if len(smi) > 1 else ("no GPU (dry run)" if a.dry == "1" else "unknown device"))
    L.append(f"# GPU measurement (issue 6), {result['when']}")
    L.append("")
    L.append(f"Device: {dev}" + (f"; torch {bw['torch']}, CUDA {bw['cuda']}" if bw else ""))
    if len(smi) > 1:
        L.append(f"nvidia-smi before ({smi[0]}): {smi[1]}")
    if len(smi_after) > 1:
        L.append(f"nvidia-smi after ({smi_after[0]}): {smi_after[1]}")
    if hf:
        L.append(f"transformers {hf.get('transformers')}, torch {hf.get('torch')}")
    L.append("")
    L.append("| quantity | value |")
    L.append("| --- | ---: |")
    if bw:
        L.append(f"| copy bandwidth, bytes read + written (best / median of {bw['reps']}) | {bw['copy_rw_gbs_best']:,.0f} / {bw['copy_rw_gbs_median']:,.0f} GB/s |")
        L.append(f"| same copy, read-only convention (half; not used) | {bw['copy_read_only_gbs_best']:,.0f} GB/s |")
        L.append(f"| read-only reduction (torch.sum), best | {bw['read_gbs_best']:,.0f} GB/s |")
    if pt:
        p = pt["parts"]
        L.append(f"| bytes read per token (weights) | {bytes_tok:,} B: blocks {p['block_matrices'] + p['block_norms']:,}, head {p['head']:,} ({pt['head_type']}, {'tied' if pt['tied_head'] else 'untied'}), output norm {p['output_norm']:,}, embedding row {p['embedding_row']:,} |")
        L.append(f"| KV cache read, mean over tg{pt['tg']} (f16, not in the roofline) | {pt['kv_bytes_mean_tg']:,.0f} B ({100 * pt['kv_bytes_mean_tg'] / bytes_tok:.2f} %) |")
    L.append(f"| roofline tg (copy bandwidth / bytes per token) | {fmt(roofline)} t/s |")
    L.append(f"| 40 % of the roofline | {fmt(roofline * 0.4 if roofline else None)} t/s |")
    L.append("")
    L.append("| engine | pp t/s | tg t/s | tg, % of the GGUF's roofline |")
    L.append("| --- | ---: | ---: | ---: |")
    for label, d in (("Tern, head on the GPU", tg_gpu), ("Tern, head requantized to Q8_0 on the GPU (--head-type q8_0)", tg_q8head),
                     ("Tern, head forced to the CPU", tg_cpuhead)):
        if not d:
            continue
        tgv = (d.get("tg") or {}).get("avg_ts")
        L.append(f"| {label} | {ts(d.get('pp')) or '—'} | {ts(d.get('tg')) or '—'} | {fmt(100 * tgv / roofline if tgv and roofline else None, 1, ' %')} |")
    for mode, info in hf_modes.items():
        tgv = hfv(mode, tgk)
        extra = f" (fallback: {info['fallback']})" if info.get("fallback") else ""
        L.append(f"| transformers bf16, {mode}{extra} | {ts(info.get(ppk)) or '—'} | {ts(info.get(tgk)) or '—'} | {fmt(100 * tgv / roofline if tgv and roofline else None, 1, ' %')} |")
        if info.get(genk):
            L.append(f"| transformers bf16, {mode}, generate() | | {ts(info.get(genk))} | |")
        if info.get("error"):
            L.append(f"| transformers bf16, {mode} | failed: {info['error'].strip().splitlines()[-1][:120]} | | |")
    for mode, info in hf_modes.items():
        if info.get("model_class"):
            L.append("")
            L.append(f"transformers {mode}: {info['model_class']}, projections {info.get('projection_class')} "
                     f"(online_quant={info.get('projection_online_quant')}, weights {info.get('projection_weight_dtype')}), "
                     f"attention {info.get('attn_implementation')}, loaded in {fmt(info.get('load_s'))} s"
                     + (f", peak {info['max_memory_allocated'] / 2**30:.1f} GiB" if info.get("max_memory_allocated") else ""))
    L.append("")
    L.append("| target (issue 6) | measured | verdict |")
    L.append("| --- | ---: | --- |")
    L.append(f"| tg{TG(tg_gpu)} ≥ 40 % of the roofline | {fmt(100 * checks['tg_roofline_fraction'] if checks['tg_roofline_fraction'] else None, 1, ' %')} | {verdict(checks['tg_roofline_met'])} |")
    for mode in hf_modes:
        for key, what in ((tgk, "tg"), (genk, "generate()")):
            v = hfv(mode, key)
            if v:
                L.append(f"| tg ≥ 3× transformers {mode} {what} | {fmt(ratio(tern_tg, v), 2, '×')} | {verdict(None if not tern_tg else tern_tg >= 3 * v)} |")
        v = hfv(mode, ppk)
        if v:
            L.append(f"| (pp vs transformers {mode}, no target) | {fmt(ratio(tern_pp, v), 2, '×')} | |")
    L.append(f"| tg ≥ 3× the fastest transformers figure | {fmt(checks['tg_vs_hf_best'], 2, '×')} | {verdict(checks['tg_vs_hf_met'])} |")
    L.append(f"| pp{PPn(tg_gpu)} ≥ 20,000 t/s | {fmt(tern_pp)} | {verdict(checks['pp_met'])} |")
    L.append("")
    L.append("ik_llama.cpp PR #1's experiment repeated (tied head/token_embd on the GPU vs forced to the CPU):")
    L.append("")
    L.append("| | test | head on GPU | head on CPU | speedup |")
    L.append("| --- | --- | ---: | ---: | ---: |")
    L.append(f"| Tern, 2B-4T shapes, I2_S | tg | {fmt(tern_tg)} | {fmt(cpuh_tg)} | {fmt(checks['head_gpu_over_cpu_tg'], 3, '×')} |")
    L.append(f"| Tern, 2B-4T shapes, I2_S | pp | {fmt(tern_pp)} | {fmt(cpuh_pp)} | {fmt(checks['head_gpu_over_cpu_pp'], 3, '×')} |")
    for r in IK_PR1["rows"]:
        L.append(f"| ik_llama.cpp PR #1, {r['type']} ({IK_PR1['setup']}) | {r['test']} | {r['gpu_head']:,} | {r['cpu_head']:,} | {r['speedup']:.3f}× |")
    L.append("")
    if checks["greedy_tokens_compared"]:
        L.append(f"Greedy `tern run` ({checks['greedy_tokens_compared']} tokens), GPU vs CPU: the first {checks['greedy_tokens_gpu_cpu_agree']} agree "
                 "(random weights make near-ties likely; a late divergence is not by itself an error).")
        L.append("")
    L.append("| step | rc | seconds | limit |")
    L.append("| --- | ---: | ---: | ---: |")
    for s in steps:
        L.append(f"| {s['step']} | {s.get('rc') if s.get('rc') is not None else s.get('skipped')} | {s['seconds']} | {s['limit']} |")
    if problems:
        L.append("")
        L.append("Missing or unreadable: " + "; ".join(problems))
    text = "\n".join(L) + "\n"
    with open(os.path.join(a.out, "gpu-bench.md"), "w") as f:
        f.write(text)
    print(text)


def TG(d):
    return (d.get("tg") or {}).get("test", "tg")[2:] or ""


def PPn(d):
    return (d.get("pp") or {}).get("test", "pp")[2:] or ""


if __name__ == "__main__":
    sys.exit(main())
