#!/usr/bin/env python3
"""Training throughput of the twin's BitNet b1.58 model (model.py, quantization on) in PyTorch: torch.compile,
bf16 autocast, fused AdamW and clipping as in docs/training.md, on random tokens. A yardstick for Tern's trainer.

    python3 bench.py                                   (both presets, on CUDA)
    python3 bench.py --size 14M --steps 50 --warmup 10
    python3 bench.py --size vocab=4096,dim=256,layers=4,heads=4,kv_heads=4,ffn=688,ctx=128,batch=32
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

from model import BITNET, ModelConfig, TernModel, initialize, weight_decay_groups

PRESETS = {
    "14M": dict(vocab=8192, dim=384, layers=6, heads=6, kv_heads=6, ffn=1024, ctx=256, batch=64),
    "110M": dict(vocab=32000, dim=768, layers=12, heads=12, kv_heads=12, ffn=2048, ctx=512, batch=16),
}
SHAPE_KEYS = ("vocab", "dim", "layers", "heads", "kv_heads", "ffn", "ctx", "batch")


def parse_size(text: str) -> tuple[str, dict]:
    if text in PRESETS:
        return text, PRESETS[text]
    fields = dict(part.split("=", 1) for part in text.split(","))
    missing = [k for k in SHAPE_KEYS if k not in fields]
    if missing or set(fields) - set(SHAPE_KEYS):
        raise SystemExit(f"--size {text}: give a preset ({', '.join(PRESETS)}) or all of {', '.join(SHAPE_KEYS)}")
    return text, {k: int(v) for k, v in fields.items()}


class StepTimer:
    """Elapsed seconds over a run of steps: CUDA events on the GPU (no host sync inside the run), a clock elsewhere."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def __enter__(self):
        if self.cuda:
            self.start, self.end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            self.end.record()
            torch.cuda.synchronize()
            self.seconds = self.start.elapsed_time(self.end) / 1000.0
        else:
            self.seconds = time.perf_counter() - self.t0


def bench_one(label: str, shape: dict, args, device: torch.device) -> dict:
    cfg = ModelConfig(arch=BITNET, vocab=shape["vocab"], dim=shape["dim"], layers=shape["layers"],
                      heads=shape["heads"], kv_heads=shape["kv_heads"], ffn=shape["ffn"], ctx=shape["ctx"],
                      quantized=True, tied=True)
    batch = shape["batch"]
    generator = torch.Generator().manual_seed(0)
    on_gpu = device.type == "cuda"
    model = TernModel(cfg, fused_attention=on_gpu)  # flash attention on the GPU; the explicit form elsewhere
    initialize(model, generator)
    model.to(device).train()
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(weight_decay_groups(model, 0.1), lr=1.5e-3, betas=(0.9, 0.95), eps=1e-8,
                                  **({"fused": True} if on_gpu else {}))
    forward = torch.compile(model) if args.compile else model
    # A few batches made up front, so that the timed loop does no host-to-device copies.
    pool = torch.randint(0, cfg.vocab, (4, batch, cfg.ctx + 1), generator=generator).to(device)

    def step(i: int) -> torch.Tensor:
        sequence = pool[i % len(pool)]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            logits = forward(sequence[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, cfg.vocab), sequence[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    t0 = time.perf_counter()
    for i in range(args.warmup):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warmup_seconds = time.perf_counter() - t0
    with StepTimer(device) as timer:
        for i in range(args.steps):
            loss = step(i)
    tokens = args.steps * batch * cfg.ctx
    return {
        "size": label, **shape, "parameters": parameters, "steps": args.steps,
        "ms_per_step": 1000.0 * timer.seconds / args.steps, "tokens_per_s": tokens / timer.seconds,
        "final_loss": float(loss), "warmup_s": warmup_seconds,
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", action="append", help=f"a preset ({', '.join(PRESETS)}) or key=value,... of "
                        f"{', '.join(SHAPE_KEYS)}; repeat for several (default: every preset)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per size")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (they include compiling)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--no-compile", dest="compile", action="store_false")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", help="float32 throughout")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    results = [bench_one(*parse_size(s), args, device) for s in (args.size or list(PRESETS))]

    print(f"{'size':>8} {'params':>12} {'B×T':>10} {'ms/step':>9} {'tokens/s':>12} {'loss':>7} {'peak GiB':>9}")
    for r in results:
        peak = f"{r['peak_gib']:.1f}" if r["peak_gib"] is not None else "-"
        print(f"{r['size']:>8} {r['parameters']:>12,} {r['batch']}×{r['ctx']:<6} {r['ms_per_step']:>9.1f} "
              f"{r['tokens_per_s']:>12,.0f} {r['final_loss']:>7.3f} {peak:>9}")
    print(json.dumps(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
