#!/usr/bin/env python3
"""Writes a Hugging Face folder with the exact shapes of microsoft/bitnet-b1.58-2B-4T-bf16 (random bf16 weights,
about 4.8 GB) for measuring `tern convert` on a model of that size. Standard library only.

    python3 bench/scripts/synthetic_bitnet_2b4t.py OUT_DIR [--layers N] [--tokenizer-dir ../shared/data/tokenizers/llama3] [--jobs J]

--jobs J fills the weights with J processes, each writing its own 64 MiB chunks in place (os.pwrite); the file has
the same header and the same byte distribution as with one process (random bytes differ from run to run anyway).
"""
import argparse, json, os, shutil, struct
from concurrent.futures import ProcessPoolExecutor

HIDDEN, FF, HEADS, KV_HEADS, VOCAB = 2560, 6912, 20, 5, 128256
HEAD_DIM = HIDDEN // HEADS

# Each random byte becomes 0x3C..0x3F or 0xBC..0xBF: bf16 values of magnitude 2^-7..2, never NaN or Inf.
TABLE = bytes(0x3C | (x & 0x83) for x in range(256))
CHUNK = 64 << 20


def fill(path, start, end):
    """Writes random table-mapped bytes to [start, end) of path (which already has its final length)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        while start < end:
            n = min(end - start, CHUNK)
            os.pwrite(fd, os.urandom(n).translate(TABLE), start)
            start += n
    finally:
        os.close(fd)
    return end


def tensors(layers):
    yield "model.embed_tokens.weight", [VOCAB, HIDDEN]
    for l in range(layers):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", [HIDDEN]
        yield p + "self_attn.q_proj.weight", [HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.k_proj.weight", [KV_HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.v_proj.weight", [KV_HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.o_proj.weight", [HIDDEN, HEADS * HEAD_DIM]
        yield p + "self_attn.attn_sub_norm.weight", [HIDDEN]
        yield p + "post_attention_layernorm.weight", [HIDDEN]
        yield p + "mlp.gate_proj.weight", [FF, HIDDEN]
        yield p + "mlp.up_proj.weight", [FF, HIDDEN]
        yield p + "mlp.down_proj.weight", [HIDDEN, FF]
        yield p + "mlp.ffn_sub_norm.weight", [FF]
    yield "model.norm.weight", [HIDDEN]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=1, help="processes writing the weights (default 1)")
    ap.add_argument("--tokenizer-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "tokenizers", "llama3"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    header, offset, plan = {}, 0, []
    for name, shape in tensors(a.layers):
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + 2 * n]}
        plan.append(2 * n)
        offset += 2 * n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    path = os.path.join(a.out, "model.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        if a.jobs <= 1:
            for size in plan:
                while size > 0:
                    n = min(size, CHUNK)
                    f.write(os.urandom(n).translate(TABLE))
                    size -= n
        else:
            f.truncate(8 + len(blob) + offset)
    if a.jobs > 1:
        # The data section is one run of bytes; tensor boundaries don't matter to the filler.
        base = 8 + len(blob)
        spans = [(base + s, base + min(s + CHUNK, offset)) for s in range(0, offset, CHUNK)]
        with ProcessPoolExecutor(a.jobs) as pool:
            for _ in pool.map(fill, [path] * len(spans), [s for s, _ in spans], [e for _, e in spans]):
                pass

    config = {
        "architectures": ["BitNetForCausalLM"], "model_type": "bitnet", "hidden_act": "relu2",
        "hidden_size": HIDDEN, "intermediate_size": FF, "num_hidden_layers": a.layers,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "vocab_size": VOCAB,
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
        "tie_word_embeddings": True, "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": 128001,
        "quantization_config": {"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "online"},
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.tokenizer_dir, name), os.path.join(a.out, name))
    print(f"wrote {a.out}: {offset / 1e9:.2f} GB of bf16 weights, {len(plan)} tensors")


if __name__ == "__main__":
    main()
