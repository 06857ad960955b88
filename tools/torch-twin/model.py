"""The model of docs/training.md in plain PyTorch, written out op by op.

Parameters are named so that a PyTorch name plus ".weight" is the GGUF name ("blk.0.attn_q" -> "blk.0.attn_q.weight"),
and every matrix is [out, in] as in nn.Linear. The twin (twin.py) runs it in float64 for the fixtures; the benchmark
(bench.py) runs it compiled under bf16 autocast.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

BITNET = "bitnet-b1.58"
LLAMA = "llama"


@dataclass(frozen=True)
class ModelConfig:
    arch: str
    vocab: int
    dim: int
    layers: int
    heads: int
    kv_heads: int
    ffn: int
    ctx: int
    rope_theta: float = 10000.0
    eps: float = 1e-5
    quantized: bool = True
    tied: bool = True
    dropout: float = 0.0

    def __post_init__(self):
        if self.arch not in (BITNET, LLAMA):
            raise ValueError(f"arch must be {BITNET} or {LLAMA}, not {self.arch}")
        if self.dim % self.heads or self.heads % self.kv_heads or (self.dim // self.heads) % 2:
            raise ValueError("dim must split into heads of even size, and heads into kv_heads groups")

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def has_sub_norms(self) -> bool:
        return self.arch == BITNET


class QuantizationProbe:
    """Collects what each BitLinear rounded, to measure how far the values sit from a rounding boundary."""

    def __init__(self):
        self.scaled_activations: list[torch.Tensor] = []  # x·s, before rounding
        self.scaled_weights: list[torch.Tensor] = []  # W/γ, before rounding
        self.activation_codes: list[torch.Tensor] = []  # q
        self.weight_codes: list[torch.Tensor] = []  # W̃

    def record(self, scaled_x, scaled_w, q, w_ternary):
        self.scaled_activations.append(scaled_x.flatten().double())
        self.scaled_weights.append(scaled_w.flatten().double())
        self.activation_codes.append(q.flatten())
        self.weight_codes.append(w_ternary.flatten())


def bitlinear(x: torch.Tensor, w: torch.Tensor, quantized: bool, probe: QuantizationProbe | None = None) -> torch.Tensor:
    """x·Wᵀ, or with quantization its BitNet b1.58 form: ternary weights per matrix, int8 activations per token,
    gradients passed straight through (the value of each detach() term is the quantization error, its gradient 0)."""
    if not quantized:
        return x @ w.t()
    w_detached, x_detached = w.detach(), x.detach()
    gamma = w_detached.abs().mean().clamp_min(1e-5)
    scaled_w = w_detached / gamma
    w_ternary = scaled_w.round().clamp(-1, 1)
    scale = 127.0 / x_detached.abs().amax(dim=-1, keepdim=True).clamp_min(1e-5)
    scaled_x = x_detached * scale
    q = scaled_x.round().clamp(-128, 127)
    if probe is not None:
        probe.record(scaled_x, scaled_w, q, w_ternary)
    x_quantized = x + (q / scale - x).detach()
    w_quantized = w + (gamma * w_ternary - w).detach()
    return x_quantized @ w_quantized.t()


def rmsnorm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return weight * x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def rope(x: torch.Tensor, arch: str, theta: float) -> torch.Tensor:
    """Rotates x [B, T, heads, hd]: NEOX pairs (i, i + hd/2) for bitnet-b1.58, NORM pairs (2i, 2i + 1) for llama."""
    _, seq, _, hd = x.shape
    half = hd // 2
    i = torch.arange(half, dtype=torch.float64, device=x.device)
    omega = theta ** (-2.0 * i / hd)
    angle = torch.arange(seq, dtype=torch.float64, device=x.device)[:, None] * omega[None, :]
    cos = angle.cos().to(x.dtype)[None, :, None, :]
    sin = angle.sin().to(x.dtype)[None, :, None, :]
    if arch == BITNET:
        a, b = x[..., :half], x[..., half:]
        return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, hd, f = cfg.dim, cfg.head_dim, cfg.ffn
        self.cfg = cfg
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.attn_q = nn.Parameter(torch.empty(cfg.heads * hd, d))
        self.attn_k = nn.Parameter(torch.empty(cfg.kv_heads * hd, d))
        self.attn_v = nn.Parameter(torch.empty(cfg.kv_heads * hd, d))
        if cfg.has_sub_norms:
            self.attn_sub_norm = nn.Parameter(torch.ones(cfg.heads * hd))
        self.attn_output = nn.Parameter(torch.empty(d, cfg.heads * hd))
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.ffn_gate = nn.Parameter(torch.empty(f, d))
        self.ffn_up = nn.Parameter(torch.empty(f, d))
        if cfg.has_sub_norms:
            self.ffn_sub_norm = nn.Parameter(torch.ones(f))
        self.ffn_down = nn.Parameter(torch.empty(d, f))

    def forward(self, x: torch.Tensor, probe: QuantizationProbe | None, fused_attention: bool) -> torch.Tensor:
        cfg = self.cfg
        batch, seq, _ = x.shape
        hd = cfg.head_dim

        def linear(inp, w):
            return bitlinear(inp, w, cfg.quantized, probe)

        h = rmsnorm(x, self.attn_norm, cfg.eps)
        q = linear(h, self.attn_q).view(batch, seq, cfg.heads, hd)
        k = linear(h, self.attn_k).view(batch, seq, cfg.kv_heads, hd)
        v = linear(h, self.attn_v).view(batch, seq, cfg.kv_heads, hd)
        q, k = rope(q, cfg.arch, cfg.rope_theta), rope(k, cfg.arch, cfg.rope_theta)
        # Query head i reads key/value head i / (H / Hkv): consecutive query heads share one.
        group = cfg.heads // cfg.kv_heads
        k, v = k.repeat_interleave(group, dim=2), v.repeat_interleave(group, dim=2)
        if fused_attention:
            a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
            a = a.transpose(1, 2)
        else:
            scores = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(hd)
            future = torch.ones(seq, seq, dtype=torch.bool, device=x.device).triu(diagonal=1)
            weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
            a = torch.einsum("bhts,bshd->bthd", weights, v)
        a = a.reshape(batch, seq, cfg.heads * hd)
        if cfg.has_sub_norms:
            a = rmsnorm(a, self.attn_sub_norm, cfg.eps)
        x = x + F.dropout(linear(a, self.attn_output), cfg.dropout, self.training)

        h = rmsnorm(x, self.ffn_norm, cfg.eps)
        g, u = linear(h, self.ffn_gate), linear(h, self.ffn_up)
        m = (F.relu(g) ** 2 if cfg.arch == BITNET else g * torch.sigmoid(g)) * u
        if cfg.has_sub_norms:
            m = rmsnorm(m, self.ffn_sub_norm, cfg.eps)
        return x + F.dropout(linear(m, self.ffn_down), cfg.dropout, self.training)


class TernModel(nn.Module):
    def __init__(self, cfg: ModelConfig, fused_attention: bool = False):
        super().__init__()
        self.cfg = cfg
        self.fused_attention = fused_attention
        self.probe: QuantizationProbe | None = None
        self.token_embd = nn.Parameter(torch.empty(cfg.vocab, cfg.dim))
        self.blk = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.output_norm = nn.Parameter(torch.ones(cfg.dim))
        if not cfg.tied:
            self.output = nn.Parameter(torch.empty(cfg.vocab, cfg.dim))

    def gguf_parameters(self) -> dict[str, nn.Parameter]:
        return {name + ".weight": p for name, p in self.named_parameters()}

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits [B, T, V] for tokens [B, T]."""
        cfg = self.cfg
        x = F.dropout(self.token_embd[tokens], cfg.dropout, self.training)
        for block in self.blk:
            x = block(x, self.probe, self.fused_attention)
        x = rmsnorm(x, self.output_norm, cfg.eps)
        head = self.token_embd if cfg.tied else self.output
        return x @ head.t()  # the head is never quantized


def is_norm(gguf_name: str) -> bool:
    return gguf_name.endswith("norm.weight")


def is_bitlinear(gguf_name: str) -> bool:
    return gguf_name.startswith("blk.") and not is_norm(gguf_name)


def initialize(model: TernModel, generator: torch.Generator, norm_spread: float = 0.0) -> None:
    """docs/training.md's initialization: N(0, 0.02²) matrices and embedding, N(0, (0.02/√(2L))²) for Wo and Wdown;
    norm weights 1 + norm_spread·N(0, 1) (the contract says 1; the twin spreads them so their gradients are tested)."""
    residual_std = 0.02 / math.sqrt(2 * model.cfg.layers)
    with torch.no_grad():
        for name, p in model.gguf_parameters().items():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32).to(p.device, p.dtype)
            if is_norm(name):
                p.copy_(1.0 + norm_spread * noise)
            elif name.endswith(("attn_output.weight", "ffn_down.weight")):
                p.copy_(residual_std * noise)
            else:
                p.copy_(0.02 * noise)


def weight_decay_groups(model: TernModel, weight_decay: float) -> list[dict]:
    """AdamW groups: decay on the matrices and the embedding, none on the norm weights."""
    params = model.gguf_parameters()
    decayed = [p for n, p in params.items() if not is_norm(n)]
    plain = [p for n, p in params.items() if is_norm(n)]
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]
