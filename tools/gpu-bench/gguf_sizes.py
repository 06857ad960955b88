#!/usr/bin/env python3
"""Bytes a decode step reads, from a GGUF file's own tensor table. Standard library only.

    python3 tools/gpu-bench/gguf_sizes.py MODEL.gguf [--json OUT.json] [--tg 128] [--kv-bytes 2]
                                                      [--check-info INFO.json]

Reads the GGUF header (versions 2 and 3, little-endian): metadata, tensor infos (name, shape, type id, offset) and
the data section's start; computes each tensor's size from its type and shape and checks it against the gap to the
next tensor (which also settles what type ids 36-39 mean: bitnet.cpp's I2_S/I8_S/TL1/TL2 or upstream's types).

Bytes read per generated token, weights only (what the roofline divides by):
  * every tensor of the blocks (`blk.N.*`: the ternary projections and the norms), read whole;
  * the output head: `output.weight`, or the tied `token_embd.weight` when there is none, read whole;
  * `output_norm.weight`, whole;
  * one row of `token_embd.weight` (the embedding lookup reads the row of the token, not the matrix).
The KV cache is reported apart (`kv_*`): at position p a step reads p cached positions of K and V in every layer.

--check-info compares names, types, shapes, offsets and sizes with `tern info MODEL.gguf --json`'s output.
"""
import argparse, json, os, struct, sys

# GGUF metadata value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
          U64: "<Q", I64: "<q", F64: "<d"}

# ggml type id -> (name, elements per block, bytes per block). Ids 36-39 are decided per file (see DIALECTS).
TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 31: ("Q4_0_4_4", 32, 18), 32: ("Q4_0_4_8", 32, 18),
    33: ("Q4_0_8_8", 32, 18), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18), 42: ("Q2_0", 64, 18),
}
I2S_SCALE_BYTES = 32  # bitnet.cpp's I2_S: n/4 bytes of 2-bit codes, then one float32 scale padded to 32 bytes.
DIALECTS = {
    "bitnet.cpp": {36: ("I2_S", None, None), 37: ("I8_S", 1, 1), 38: ("TL1", None, None), 39: ("TL2", None, None)},
    "upstream": {36: ("IQ4_NL_4_4", 32, 18), 37: ("IQ4_NL_4_8", 32, 18), 38: ("IQ4_NL_8_8", 32, 18),
                 39: ("MXFP4", 32, 17)},
}


class Reader:
    def __init__(self, f):
        self.f = f

    def take(self, fmt):
        size = struct.calcsize(fmt)
        b = self.f.read(size)
        if len(b) != size:
            raise EOFError("GGUF header ends early")
        return struct.unpack(fmt, b)[0]

    def string(self):
        n = self.take("<Q")
        b = self.f.read(n)
        if len(b) != n:
            raise EOFError("GGUF header ends early in a string")
        return b.decode("utf-8", errors="replace")

    def value(self, t):
        if t in SCALAR:
            return self.take(SCALAR[t])
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            if et in SCALAR and n > 64:
                # Large numeric arrays (token types, scores): skip, keep the count.
                self.f.seek(n * struct.calcsize(SCALAR[et]), os.SEEK_CUR)
                return {"array_of": et, "count": n}
            items = [self.value(et) for _ in range(n)]
            return items if n <= 64 else {"array_of": et, "count": n}
        raise ValueError(f"unknown GGUF value type {t}")


def read_gguf(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        r = Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        version = r.take("<I")
        if version not in (2, 3):
            raise ValueError(f"{path}: GGUF version {version} (2 and 3 are read)")
        n_tensors, n_kv = r.take("<Q"), r.take("<Q")
        meta = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.take("<I"))
        tensors = []
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.take("<Q") for _ in range(r.take("<I"))]
            tensors.append({"name": name, "shape": dims, "type_id": r.take("<I"), "offset": r.take("<Q")})
        alignment = meta.get("general.alignment", 32)
        data_offset = f.tell() + (-f.tell() % alignment)
    return {"path": path, "file_size": size, "gguf_version": version, "alignment": alignment,
            "data_offset": data_offset, "metadata": meta, "tensors": tensors}


def size_of(type_id, elements, dialect):
    """(name, bytes) for a tensor, or (name, None) when the type's size is not a formula (TL1/TL2)."""
    if 36 <= type_id <= 39:
        name, blck, bsize = DIALECTS[dialect][type_id]
        if name == "I2_S":
            return name, elements // 4 + I2S_SCALE_BYTES
    elif type_id in TYPES:
        name, blck, bsize = TYPES[type_id]
    else:
        return f"type{type_id}", None
    if blck is None:
        return name, None
    if elements % blck:
        raise ValueError(f"{elements} elements is not a multiple of {name}'s block of {blck}")
    return name, elements // blck * bsize


def settle_sizes(g):
    """Fills each tensor's type name and bytes; picks the type-id dialect whose sizes fit the offsets."""
    ts = g["tensors"]
    for t in ts:
        n = 1
        for d in t["shape"]:
            n *= d
        t["elements"] = n
    # The room each tensor has: up to the next tensor's start (or the end of the file).
    order = sorted(ts, key=lambda t: t["offset"])
    for a, b in zip(order, order[1:] + [None]):
        end = b["offset"] if b else g["file_size"] - g["data_offset"]
        a["room"] = end - a["offset"]

    def fits(dialect):
        # A tensor fills its room up to the alignment padding; the last one may be followed by anything.
        for t in ts:
            _, b = size_of(t["type_id"], t["elements"], dialect)
            if b is None:
                continue
            if b > t["room"] or (t is not order[-1] and t["room"] - b >= g["alignment"]):
                return False
        return True

    uses = any(36 <= t["type_id"] <= 39 for t in ts)
    arch = str(g["metadata"].get("general.architecture", ""))
    dialect = "upstream"
    if uses:
        ok = [d for d in ("bitnet.cpp", "upstream") if fits(d)]
        dialect = ok[0] if len(ok) == 1 else ("bitnet.cpp" if "bitnet" in arch or not ok else "upstream")
    g["type_id_dialect"] = dialect if uses else None
    bad = []
    for t in ts:
        t["type"], b = size_of(t["type_id"], t["elements"], dialect)
        t["bytes"] = b if b is not None else t["room"]
        if b is not None and b > t["room"]:
            bad.append(t["name"])
    if bad:
        raise ValueError(f"tensor sizes overrun the next tensor's offset: {bad[:5]}")
    for t in ts:
        del t["room"]
    return g


def per_token(g, tg=128, kv_bytes=2):
    ts = {t["name"]: t for t in g["tensors"]}
    meta = g["metadata"]
    arch = meta.get("general.architecture", "")
    blocks = [t for t in g["tensors"] if t["name"].startswith("blk.")]
    matrices = [t for t in blocks if len(t["shape"]) >= 2 and t["shape"][1] > 1]
    norms = [t for t in blocks if t not in matrices]
    emb = ts.get("token_embd.weight")
    head = ts.get("output.weight") or emb
    tied = "output.weight" not in ts
    out_norm = ts.get("output_norm.weight")
    emb_row = 0
    if emb is not None:
        rows = emb["shape"][1] if len(emb["shape"]) > 1 else 1
        emb_row = emb["bytes"] // rows
    parts = {
        "block_matrices": sum(t["bytes"] for t in matrices),
        "block_norms": sum(t["bytes"] for t in norms),
        "head": head["bytes"] if head else 0,
        "output_norm": out_norm["bytes"] if out_norm else 0,
        "embedding_row": emb_row,
    }
    total = sum(parts.values())
    # KV cache: K and V of every layer, n_kv_heads * head_dim values per position.
    layers = meta.get(f"{arch}.block_count", 0)
    n_embd = meta.get(f"{arch}.embedding_length", 0)
    heads = meta.get(f"{arch}.attention.head_count", 1) or 1
    kv_heads = meta.get(f"{arch}.attention.head_count_kv", heads)
    kv_per_pos = 2 * layers * kv_heads * (n_embd // heads) * kv_bytes
    # tg-style: position p (0-based) attends to p + 1 positions (its own included) -> mean (tg + 1) / 2.
    kv_mean = kv_per_pos * (tg + 1) / 2
    ternary_types = {"I2_S", "TQ1_0", "TQ2_0", "TL1", "TL2"}
    return {
        "bytes_per_token": total,
        "parts": parts,
        "head_tensor": head["name"] if head else None,
        "head_type": head["type"] if head else None,
        "tied_head": tied,
        "ternary_bytes": sum(t["bytes"] for t in g["tensors"] if t["type"] in ternary_types),
        "ternary_params": sum(t["elements"] for t in g["tensors"] if t["type"] in ternary_types),
        "head_params": head["elements"] if head else 0,
        "matmul_flops_per_token": 2 * (sum(t["elements"] for t in matrices) + (head["elements"] if head else 0)),
        "kv_bytes_per_position": kv_per_pos,
        "kv_bytes_mean_tg": kv_mean,
        "kv_element_bytes": kv_bytes,
        "tg": tg,
        "bytes_per_token_with_kv_mean_tg": total + kv_mean,
        "layers": layers,
    }


def check_info(g, info):
    """Differences between this reader and `tern info --json` (empty when they agree)."""
    diffs = []
    for k in ("file_size", "gguf_version", "alignment", "data_offset"):
        if info.get(k) != g[k]:
            diffs.append(f"{k}: tern {info.get(k)} vs {g[k]}")
    mine = {t["name"]: t for t in g["tensors"]}
    theirs = {t["name"]: t for t in info["tensors"]}
    if set(mine) != set(theirs):
        diffs.append(f"tensor names differ: {sorted(set(mine) ^ set(theirs))[:5]}")
    for name in sorted(set(mine) & set(theirs)):
        a, b = mine[name], theirs[name]
        for k in ("type", "type_id", "shape", "offset", "bytes", "elements"):
            if a[k] != b.get(k):
                diffs.append(f"{name}.{k}: tern {b.get(k)} vs {a[k]}")
    return diffs


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.2f} {unit}"
        n /= 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--json", help="write the tensor table and the per-token bytes here")
    ap.add_argument("--tg", type=int, default=128, help="generated tokens, for the KV term (default 128)")
    ap.add_argument("--kv-bytes", type=int, default=2, help="bytes per cached K/V element (default 2: f16)")
    ap.add_argument("--check-info", help="`tern info MODEL --json` output to compare with")
    ap.add_argument("--tensors", action="store_true", help="print the tensor table")
    a = ap.parse_args()

    g = settle_sizes(read_gguf(a.model))
    pt = per_token(g, a.tg, a.kv_bytes)
    result = {k: v for k, v in g.items() if k != "metadata"}
    result["metadata"] = {k: v for k, v in g["metadata"].items() if not k.startswith("tokenizer.")}
    result["per_token"] = pt
    if a.tensors:
        for t in g["tensors"]:
            print(f"{t['name']:32} {t['type']:6} {'x'.join(map(str, t['shape'])):>14} {t['bytes']:>14,}")
    print(f"{a.model}: GGUF v{g['gguf_version']}, {len(g['tensors'])} tensors, {human(g['file_size'])}"
          + (f", type ids 36-39 as {g['type_id_dialect']}" if g["type_id_dialect"] else ""))
    print(f"read per token: {pt['bytes_per_token']:,} B ({human(pt['bytes_per_token'])}): "
          + ", ".join(f"{k} {v:,}" for k, v in pt["parts"].items())
          + f"; head = {pt['head_tensor']} ({pt['head_type']}, {'tied' if pt['tied_head'] else 'untied'})")
    print(f"KV cache ({a.kv_bytes} B/elt): {pt['kv_bytes_per_position']:,} B per cached position; "
          f"mean over tg{a.tg}: {pt['kv_bytes_mean_tg']:,.0f} B ({100 * pt['kv_bytes_mean_tg'] / max(1, pt['bytes_per_token']):.2f} % of the weights)")
    if a.check_info:
        with open(a.check_info) as f:
            text = f.read()
        info = json.loads(text[text.index("{"):])
        diffs = check_info(g, info)
        result["check_info"] = {"agrees": not diffs, "differences": diffs[:50]}
        print("tern info --json agrees: every tensor's type, shape, offset and size" if not diffs
              else f"tern info --json DISAGREES ({len(diffs)}): " + "; ".join(diffs[:10]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0 if not a.check_info or result["check_info"]["agrees"] else 1


if __name__ == "__main__":
    sys.exit(main())
