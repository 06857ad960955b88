#!/usr/bin/env python3
"""Hugging Face transformers on the same model folder, llama-bench's pp/tg tests, eager PyTorch as a user runs it.

    python3 tools/gpu-bench/hf_bench.py MODEL_DIR --json OUT.json [--modes plain,online] [--pp 512] [--tg 128]
                                        [--reps 3] [--gen-reps 2] [--device cuda] [--budget-s 300]

MODEL_DIR is a Hugging Face folder (bench/scripts/synthetic_bitnet_2b4t.py writes one with the exact shapes of
microsoft/bitnet-b1.58-2B-4T-bf16). Modes, each loaded with AutoModelForCausalLM in bfloat16 on --device:
  online  the folder as it is. Its config.json carries quantization_config {quant_method: bitnet, linear_class:
          autobitlinear, quantization_mode: online}, so transformers swaps every decoder nn.Linear for AutoBitLinear
          (online_quant=True), which on every call re-ternarizes the bf16 weight (absmean, torch.compile'd), fake-
          quantizes the activations to int8 per token (absmax), and runs F.linear in bf16.
  plain   the same folder with quantization_config removed from config.json (files linked, config rewritten in a
          temporary folder): plain bf16 nn.Linear, the same architecture as an ordinary bf16 model; not BitNet's
          arithmetic, but the faster of the two transformers baselines and the one a roofline would compare with.
If BitNetForCausalLM cannot be loaded, a LlamaForCausalLM of the same shapes is loaded from the same weights
instead (no sub-norms, no quantization) and the result says so ("fallback").

Tests (llama-bench's): pp = one forward over --pp random token ids from an empty cache (logits of the last position
only, as llama-bench and generate() ask for); tg = --tg decode steps, one token at a time with the KV cache from an
empty cache, starting from a random token and feeding back the argmax; gen = model.generate(min_new_tokens =
max_new_tokens = --tg, greedy) from a one-token prompt. Each after warm-up, timed with the device synchronized;
tokens/s per repetition, mean and sample sd over repetitions (llama-bench's avg_ts/stddev_ts). Progress goes to
stderr; the JSON is rewritten after every measurement, so a run stopped by a time limit keeps what it measured.
"""
import argparse, gc, inspect, json, os, shutil, statistics, sys, tempfile, time

T0 = time.time()


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} +{time.time() - T0:5.1f}s] hf_bench: {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args):
        self.a = args
        self.result = {"args": vars(args), "modes": {}, "errors": []}

    def save(self):
        with open(self.a.json, "w") as f:
            json.dump(self.result, f, indent=1, default=str)

    def left(self):
        return self.a.budget_s - (time.time() - T0)


def stats(tokens, seconds):
    ts = [tokens / s for s in seconds]
    return {
        "tokens": tokens, "samples_s": seconds, "samples_ts": ts,
        "avg_ts": statistics.fmean(ts), "stddev_ts": statistics.stdev(ts) if len(ts) > 1 else 0.0,
        "avg_s": statistics.fmean(seconds),
    }


def prepare_dir(src, mode):
    """The folder to load for a mode: the original (online) or a linked copy without quantization_config (plain)."""
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    if mode == "online":
        return src, cfg, None
    cfg = dict(cfg)
    cfg.pop("quantization_config", None)
    tmp = tempfile.mkdtemp(prefix="hf-plain-", dir=os.environ.get("TMPDIR", "/tmp"))
    for name in os.listdir(src):
        if name != "config.json":
            os.symlink(os.path.abspath(os.path.join(src, name)), os.path.join(tmp, name))
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return tmp, cfg, tmp


def dtype_kwargs(torch, transformers):
    # transformers renamed torch_dtype to dtype in 4.56; 5.x still reads torch_dtype but warns.
    parts = transformers.__version__.split(".")
    major, minor = int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)
    return {"dtype": torch.bfloat16} if (major, minor) >= (4, 56) else {"torch_dtype": torch.bfloat16}


def load(torch, transformers, path, cfg, device, info):
    kw = dtype_kwargs(torch, transformers)
    kw["device_map"] = device
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(path, **kw)
        info["fallback"] = None
    except Exception as e:  # noqa: BLE001 - any failure here means: try the Llama of the same shapes
        log(f"AutoModelForCausalLM failed ({type(e).__name__}: {e}); falling back to LlamaForCausalLM of the same shapes")
        info["auto_error"] = f"{type(e).__name__}: {e}"
        lc = dict(
            vocab_size=cfg["vocab_size"], hidden_size=cfg["hidden_size"], intermediate_size=cfg["intermediate_size"],
            num_hidden_layers=cfg["num_hidden_layers"], num_attention_heads=cfg["num_attention_heads"],
            num_key_value_heads=cfg["num_key_value_heads"], hidden_act=cfg.get("hidden_act", "silu"),
            max_position_embeddings=cfg.get("max_position_embeddings", 4096), rms_norm_eps=cfg.get("rms_norm_eps", 1e-5),
            tie_word_embeddings=cfg.get("tie_word_embeddings", True), bos_token_id=cfg.get("bos_token_id"),
            eos_token_id=cfg.get("eos_token_id"), rope_theta=cfg.get("rope_theta", 500000.0))
        try:
            llama_cfg = transformers.LlamaConfig(**lc)
        except TypeError:
            lc.pop("rope_theta")
            llama_cfg = transformers.LlamaConfig(**lc)
        model = transformers.LlamaForCausalLM.from_pretrained(path, config=llama_cfg, **kw)
        info["fallback"] = "LlamaForCausalLM of the same shapes (no sub-norms, no quantization)"
    model.eval()
    return model


def describe(model, info):
    """What actually runs: classes, the projection's forward source, attention implementation."""
    info["model_class"] = type(model).__name__
    cfg = model.config
    info["attn_implementation"] = getattr(cfg, "_attn_implementation", None)
    qc = getattr(cfg, "quantization_config", None)
    info["quantization_config"] = qc.to_dict() if hasattr(qc, "to_dict") else qc
    proj = None
    for name, m in model.named_modules():
        if name.endswith("q_proj"):
            proj = m
            break
    if proj is not None:
        info["projection_class"] = f"{type(proj).__module__}.{type(proj).__name__}"
        info["projection_online_quant"] = getattr(proj, "online_quant", None)
        info["projection_weight_dtype"] = str(getattr(getattr(proj, "weight", None), "dtype", None))
        try:
            info["projection_forward_source"] = inspect.getsource(type(proj).forward)
        except (OSError, TypeError):
            pass
    info["parameters"] = sum(p.numel() for p in model.parameters())
    info["lm_head_tied"] = model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def run_mode(bench, torch, transformers, mode):
    a = bench.a
    info = {"mode": mode}
    bench.result["modes"][mode] = info
    dev = a.device
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    path, cfg, tmp = prepare_dir(a.model_dir, mode)
    model = None
    try:
        t = time.time()
        model = load(torch, transformers, path, cfg, dev, info)
        sync()
        info["load_s"] = time.time() - t
        describe(model, info)
        log(f"{mode}: loaded {info['model_class']} in {info['load_s']:.1f} s; projections "
            f"{info.get('projection_class')} (online_quant={info.get('projection_online_quant')}), "
            f"attention {info['attn_implementation']}, fallback={info['fallback']}")
        bench.save()
        vocab = model.config.vocab_size
        gen = torch.Generator().manual_seed(1234)

        def ids(n):
            return torch.randint(vocab, (1, n), generator=gen).to(dev)

        def timed(fn, reps, warmup, label):
            for i in range(warmup):
                t = time.time()
                fn()
                sync()
                log(f"{mode}: {label} warm-up {i + 1}/{warmup}: {time.time() - t:.2f} s")
            out = []
            for i in range(reps):
                if bench.left() < 0:
                    log(f"{mode}: {label}: budget spent after {i} repetitions")
                    break
                sync()
                t = time.perf_counter()
                fn()
                sync()
                out.append(time.perf_counter() - t)
            return out

        with torch.inference_mode():
            # pp: one forward over the prompt from an empty cache; logits of the last position only.
            keep = {"logits_to_keep": 1}
            try:
                model(input_ids=ids(4), use_cache=True, **keep)
            except TypeError:
                keep = {}
            info["pp_logits_to_keep"] = bool(keep)
            if a.pp > 0 and bench.left() > 0:
                prompt = ids(a.pp)
                s = timed(lambda: model(input_ids=prompt, use_cache=True, **keep), a.reps, a.warmup + (1 if mode == "online" else 0), f"pp{a.pp}")
                if s:
                    info[f"pp{a.pp}"] = stats(a.pp, s)
                    log(f"{mode}: pp{a.pp} {info[f'pp{a.pp}']['avg_ts']:.1f} ± {info[f'pp{a.pp}']['stddev_ts']:.1f} t/s")
                bench.save()

            # tg: one token at a time with the cache, from an empty cache, argmax fed back (llama-bench's tg).
            def decode():
                tok = ids(1)
                past = None
                for _ in range(a.tg):
                    out = model(input_ids=tok, past_key_values=past, use_cache=True)
                    past = out.past_key_values
                    tok = out.logits[:, -1:].argmax(-1)
                return tok

            if a.tg > 0 and bench.left() > 0:
                s = timed(decode, a.reps, 1, f"tg{a.tg}")
                if s:
                    info[f"tg{a.tg}"] = stats(a.tg, s)
                    log(f"{mode}: tg{a.tg} {info[f'tg{a.tg}']['avg_ts']:.2f} ± {info[f'tg{a.tg}']['stddev_ts']:.2f} t/s")
                bench.save()

            # generate(): the same count of new tokens through the library's own loop.
            if a.tg > 0 and a.gen_reps > 0 and bench.left() > 0:
                first = ids(1)
                mask = torch.ones_like(first)
                made = []

                def generate():
                    out = model.generate(input_ids=first, attention_mask=mask, max_new_tokens=a.tg,
                                         min_new_tokens=a.tg, do_sample=False, pad_token_id=0)
                    made.append(out.shape[1] - first.shape[1])

                s = timed(generate, a.gen_reps, 1, f"generate {a.tg}")
                if s:
                    info[f"generate{a.tg}"] = stats(a.tg, s)
                    info[f"generate{a.tg}"]["new_tokens"] = made[-1]
                    log(f"{mode}: generate {a.tg}: {info[f'generate{a.tg}']['avg_ts']:.2f} t/s ({made[-1]} new tokens)")
                bench.save()
        if dev.startswith("cuda"):
            info["max_memory_allocated"] = torch.cuda.max_memory_allocated()
    finally:
        del model
        gc.collect()
        if dev.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--json", required=True)
    ap.add_argument("--modes", default="plain,online")
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--gen-reps", type=int, default=2)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--budget-s", type=float, default=300, help="stop starting new measurements after this long")
    a = ap.parse_args()
    bench = Bench(a)
    bench.save()

    import torch
    import transformers
    bench.result.update(torch=torch.__version__, transformers=transformers.__version__,
                        cuda=getattr(torch.version, "cuda", None),
                        device_name=torch.cuda.get_device_name(0) if a.device.startswith("cuda") else a.device)
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, device {bench.result['device_name']}")
    torch.manual_seed(0)
    for mode in a.modes.split(","):
        if bench.left() < 0:
            bench.result["errors"].append(f"{mode}: skipped, budget spent")
            log(f"{mode}: skipped, budget spent")
            continue
        try:
            run_mode(bench, torch, transformers, mode)
        except Exception as e:  # noqa: BLE001 - one mode's failure must not stop the other
            import traceback
            bench.result["errors"].append(f"{mode}: {type(e).__name__}: {e}")
            bench.result["modes"][mode]["error"] = traceback.format_exc()
            log(f"{mode}: FAILED {type(e).__name__}: {e}")
            traceback.print_exc()
        bench.save()
    log("done")
    return 0 if not bench.result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
