#!/usr/bin/env python3
"""The PyTorch twin of Tern's trainer: writes the reference fixtures of tests/Tern.Tests/Fixtures/Training.

For each case it makes a config, float32 initial weights and a batch, then runs the model of docs/training.md
(model.py) in float64: forward, mean cross-entropy, every gradient by autograd (the independent reference for the
trainer's hand-derived backward pass), and one AdamW step after clipping to a global L2 norm of 1.0. The step is
written out by hand and checked against torch.optim.AdamW.

A float32 reimplementation rounds the same numbers as this float64 run only if none of them lies too close to a
rounding boundary, so for the quantized cases the script measures the distances of every x·s to k + 0.5 and of
every W/γ to ±0.5 and ±1.5, and counts the codes a float32 run of this same model rounds differently. Weights
within WEIGHT_MARGIN of ±0.5 are moved twice that far from it at generation (γ moves by parts per million with
them), and seeds whose activations come within MIN_MARGIN of a boundary are passed over for the next seed.

    python3 twin.py --out DIR      (needs torch and safetensors; CPU is enough)
"""

import argparse
import copy
import math
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from model import BITNET, LLAMA, ModelConfig, QuantizationProbe, TernModel, initialize, is_bitlinear, is_norm, weight_decay_groups

BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
GRAD_CLIP = 1.0
NORM_SPREAD = 0.1  # norm weights start at 1 + 0.1·N(0, 1), not 1, so that their gradients are tested
MIN_MARGIN = 1e-4  # the smallest distance to a rounding boundary a fixture may have
WEIGHT_MARGIN = 1e-3  # generation moves weights with |W/γ| closer than this to 0.5 twice as far from it
MAX_SEED_TRIES = 2000


@dataclass(frozen=True)
class Case:
    file_name: str
    model: ModelConfig
    batch: int
    lr: float
    weight_decay: float
    first_seed: int
    same_inputs_as: str | None = None  # a full-precision case takes the seed its quantized twin settled on


def cases() -> list[Case]:
    bitnet = ModelConfig(arch=BITNET, vocab=67, dim=64, layers=2, heads=4, kv_heads=2, ffn=96, ctx=12, quantized=True, tied=True)
    llama = ModelConfig(arch=LLAMA, vocab=67, dim=64, layers=2, heads=4, kv_heads=4, ffn=80, ctx=12, quantized=True, tied=False)
    return [
        Case("twin-bitnet-qat.safetensors", bitnet, batch=3, lr=1e-2, weight_decay=0.1, first_seed=1),
        Case("twin-bitnet-fp.safetensors", _replace(bitnet, quantized=False), batch=3, lr=1e-2, weight_decay=0.1,
             first_seed=1, same_inputs_as="twin-bitnet-qat.safetensors"),
        Case("twin-llama-qat.safetensors", llama, batch=3, lr=3e-3, weight_decay=0.1, first_seed=1001),
        Case("twin-llama-fp.safetensors", _replace(llama, quantized=False), batch=3, lr=3e-3, weight_decay=0.1,
             first_seed=1001, same_inputs_as="twin-llama-qat.safetensors"),
    ]


def _replace(cfg: ModelConfig, **changes) -> ModelConfig:
    return ModelConfig(**{**cfg.__dict__, **changes})


def make_inputs(case: Case, seed: int) -> tuple[TernModel, torch.Tensor, torch.Tensor]:
    """Float32 initial weights and a batch: targets are the tokens shifted by one, as in a training batch."""
    generator = torch.Generator().manual_seed(seed)
    model = TernModel(case.model)
    initialize(model, generator, norm_spread=NORM_SPREAD)
    move_weights_off_the_half(model)
    sequence = torch.randint(0, case.model.vocab, (case.batch, case.model.ctx + 1), generator=generator)
    return model, sequence[:, :-1].clone(), sequence[:, 1:].clone()


def move_weights_off_the_half(model: TernModel) -> None:
    """Moves each weight with |W/γ| within WEIGHT_MARGIN of 0.5 to twice that distance on its own side, so that no
    float32 sum of |W| rounds it to the other ternary value. (±1.5 needs nothing: the clamp to [-1, 1] hides it.)"""
    with torch.no_grad():
        for name, w in model.gguf_parameters().items():
            if not is_bitlinear(name):
                continue
            for _ in range(10):  # moving weights moves γ a little; a second pass finds nothing
                gamma = w.double().abs().mean()
                ratio = w.double() / gamma
                offset = ratio.abs() - 0.5
                close = offset.abs() < WEIGHT_MARGIN
                if not close.any():
                    break
                side = torch.where(offset >= 0, 1.0, -1.0).double()
                moved = ratio.sign() * (0.5 + side * 2 * WEIGHT_MARGIN) * gamma
                w[close] = moved[close].float()


@dataclass
class Reference:
    logits: torch.Tensor  # float64 [B, T, V]
    loss: torch.Tensor  # float64 scalar
    grads: dict[str, torch.Tensor]  # float64, before clipping
    grad_norm: float
    updated: dict[str, torch.Tensor]  # float64
    probe: QuantizationProbe


def run_float64(case: Case, model32: TernModel, tokens: torch.Tensor, targets: torch.Tensor) -> Reference:
    model = copy.deepcopy(model32).double()
    model.probe = QuantizationProbe()
    logits = model(tokens)
    loss = F.cross_entropy(logits.reshape(-1, case.model.vocab), targets.reshape(-1))
    loss.backward()
    params = model.gguf_parameters()
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    grad_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    clip = min(1.0, GRAD_CLIP / grad_norm)
    clipped = {n: g * clip for n, g in grads.items()}
    updated = {
        n: adamw_first_step(p.detach(), clipped[n], case.lr, 0.0 if is_norm(n) else case.weight_decay)
        for n, p in params.items()
    }
    check_against_torch_adamw(case, model, clipped, updated)
    return Reference(logits.detach(), loss.detach(), grads, grad_norm, updated, model.probe)


def adamw_first_step(w: torch.Tensor, g: torch.Tensor, lr: float, weight_decay: float) -> torch.Tensor:
    """One AdamW step from zero moments (step 1), with torch.optim.AdamW's bias correction and decoupled decay."""
    beta1, beta2 = BETAS
    m = (1 - beta1) * g
    v = (1 - beta2) * g * g
    m_hat = m / (1 - beta1)
    v_hat = v / (1 - beta2)
    return w - lr * weight_decay * w - lr * m_hat / (v_hat.sqrt() + ADAM_EPS)


def check_against_torch_adamw(case: Case, model: TernModel, clipped: dict, updated: dict) -> None:
    fresh = copy.deepcopy(model)
    for n, p in fresh.gguf_parameters().items():
        p.grad = clipped[n].clone()
    optimizer = torch.optim.AdamW(weight_decay_groups(fresh, case.weight_decay), lr=case.lr, betas=BETAS,
                                  eps=ADAM_EPS, foreach=False)
    optimizer.step()
    for n, p in fresh.gguf_parameters().items():
        difference = (p.detach() - updated[n]).abs().max().item()
        assert difference < 1e-14, f"{case.file_name}: hand AdamW differs from torch.optim.AdamW on {n} by {difference}"


@dataclass
class RoundingMargins:
    activation: float  # smallest |x·s − (k + 0.5)|
    weight_half: float  # smallest ||W/γ| − 0.5|
    weight_three_halves: float  # smallest ||W/γ| − 1.5|, harmless: the clamp maps both sides to ±1
    float32_flips: int  # codes a float32 run rounds differently from the float64 one
    float32_logits_error: float  # max |logits32 − logits64|


def rounding_margins(probe64: QuantizationProbe, model32: TernModel, tokens: torch.Tensor, logits64: torch.Tensor) -> RoundingMargins:
    scaled_x = torch.cat(probe64.scaled_activations)
    scaled_w = torch.cat(probe64.scaled_weights).abs()
    probe32 = QuantizationProbe()
    model32.probe = probe32
    with torch.no_grad():
        logits32 = model32(tokens)
    model32.probe = None
    flips = sum(int((a != b).sum()) for a, b in zip(probe32.activation_codes, probe64.activation_codes))
    flips += sum(int((a != b).sum()) for a, b in zip(probe32.weight_codes, probe64.weight_codes))
    return RoundingMargins(
        activation=float((scaled_x - scaled_x.floor() - 0.5).abs().min()),
        weight_half=float((scaled_w - 0.5).abs().min()),
        weight_three_halves=float((scaled_w - 1.5).abs().min()),
        float32_flips=flips,
        float32_logits_error=float((logits32.double() - logits64).abs().max()),
    )


def settle_seed(case: Case) -> tuple[int, TernModel, torch.Tensor, torch.Tensor, Reference, RoundingMargins | None]:
    """The first seed from case.first_seed whose quantized values all keep MIN_MARGIN from a rounding boundary and
    that a float32 run rounds alike. Exact ties are not rare: in llama, whose attention output has no sub-norm, the
    first position's output is v itself, integers times one scale, so x·s = 127·n/n_max can be k + 0.5 exactly."""
    for seed in range(case.first_seed, case.first_seed + MAX_SEED_TRIES):
        model32, tokens, targets = make_inputs(case, seed)
        reference = run_float64(case, model32, tokens, targets)
        if not case.model.quantized:
            return seed, model32, tokens, targets, reference, None
        margins = rounding_margins(reference.probe, model32, tokens, reference.logits)
        smallest = min(margins.activation, margins.weight_half)
        if smallest >= MIN_MARGIN and margins.float32_flips == 0:
            return seed, model32, tokens, targets, reference, margins
        print(f"  seed {seed}: a value lies {smallest:.2e} from a rounding boundary (fixtures keep {MIN_MARGIN:g}), "
              f"float32 rounds {margins.float32_flips} codes differently; next seed")
    raise RuntimeError(f"{case.file_name}: no seed in {MAX_SEED_TRIES} keeps {MIN_MARGIN:g} from every rounding boundary")


def write_fixture(path: str, case: Case, seed: int, model32: TernModel, tokens: torch.Tensor, targets: torch.Tensor,
                  reference: Reference, margins: RoundingMargins | None) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for n, p in model32.gguf_parameters().items():
        tensors[n] = p.detach().float()
    for n, g in reference.grads.items():
        tensors["grad." + n] = g.float()
    for n, w in reference.updated.items():
        tensors["updated." + n] = w.float()
    tensors["tokens"] = tokens.int()
    tensors["targets"] = targets.int()
    tensors["logits"] = reference.logits.float()
    tensors["loss"] = reference.loss.reshape(1).double()
    tensors["grad_norm"] = torch.tensor([reference.grad_norm], dtype=torch.float64)
    cfg = case.model
    metadata = {
        "arch": cfg.arch, "vocab": str(cfg.vocab), "dim": str(cfg.dim), "layers": str(cfg.layers),
        "heads": str(cfg.heads), "kv_heads": str(cfg.kv_heads), "ffn": str(cfg.ffn), "ctx": str(cfg.ctx),
        "batch": str(case.batch), "rope_theta": repr(cfg.rope_theta), "eps": repr(cfg.eps),
        "quantized": _flag(cfg.quantized), "tied": _flag(cfg.tied), "lr": repr(case.lr),
        "weight_decay": repr(case.weight_decay), "seed": str(seed), "torch": torch.__version__,
        "beta1": repr(BETAS[0]), "beta2": repr(BETAS[1]), "adam_eps": repr(ADAM_EPS), "grad_clip": repr(GRAD_CLIP),
        "clipping": "grad * min(1, grad_clip / grad_norm), grad_norm over every parameter; grad.* are before it",
        "weight_decay_on": "matrices and token_embd, not norm weights",
        "norm_init": f"1 + {NORM_SPREAD}*N(0,1)",
    }
    if margins is not None:
        metadata.update({
            "activation_rounding_margin": f"{margins.activation:.3e}",
            "weight_rounding_margin_half": f"{margins.weight_half:.3e}",
            "weight_rounding_margin_three_halves": f"{margins.weight_three_halves:.3e}",
            "float32_code_flips": str(margins.float32_flips),
        })
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=metadata)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the .safetensors fixtures")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    print(f"torch {torch.__version__}")
    settled: dict[str, int] = {}
    for case in cases():
        print(f"{case.file_name}:")
        if case.same_inputs_as is not None:
            seed = settled[case.same_inputs_as]
            case = Case(**{**case.__dict__, "first_seed": seed})
        seed, model32, tokens, targets, reference, margins = settle_seed(case)
        settled[case.file_name] = seed
        path = os.path.join(args.out, case.file_name)
        write_fixture(path, case, seed, model32, tokens, targets, reference, margins)
        print(f"  seed {seed}, loss {reference.loss.item():.12f}, grad norm {reference.grad_norm:.12f}, "
              f"{os.path.getsize(path) / 1024:.0f} KiB")
        if margins is not None:
            print(f"  rounding margins: x·s to k+0.5 {margins.activation:.3e}; |W/γ| to 0.5 {margins.weight_half:.3e}, "
                  f"to 1.5 {margins.weight_three_halves:.3e} (clamped either side); "
                  f"float32 run: {margins.float32_flips} codes rounded differently, "
                  f"logits within {margins.float32_logits_error:.2e}")


if __name__ == "__main__":
    main()
