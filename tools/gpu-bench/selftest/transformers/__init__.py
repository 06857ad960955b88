"""A stand-in for the `transformers` package, for checking hf_bench.py's control flow where transformers is not
installed (this project's CI machine has no PyPI). It is NOT transformers: a tiny tied-embedding MLP with a fake KV
cache and the handful of entry points hf_bench.py calls. measure.sh never puts it on the path on the device machine;
selftest.sh does, on the CPU. STUB_AUTO_FAIL=1 makes AutoModelForCausalLM fail, to exercise the Llama fallback.
"""
import json, os, types

import torch
from torch import nn

__version__ = "0.0+stub"
HIDDEN = 64


class _Config(types.SimpleNamespace):
    def to_dict(self):
        return dict(vars(self))


class _Tiny(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.embed = nn.Embedding(cfg.vocab_size, HIDDEN)
        self.layers = nn.ModuleList(nn.ModuleDict({"q_proj": nn.Linear(HIDDEN, HIDDEN, bias=False)}) for _ in range(cfg.num_hidden_layers))
        self.head = nn.Linear(HIDDEN, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.weight

    def get_input_embeddings(self):
        return self.embed

    def get_output_embeddings(self):
        return self.head

    def forward(self, input_ids=None, past_key_values=None, use_cache=None, logits_to_keep=0, attention_mask=None, **kw):
        h = self.embed(input_ids)
        for layer in self.layers:
            h = h + torch.relu(layer["q_proj"](h)) ** 2 / HIDDEN
        seen = (past_key_values or [0])[0] + input_ids.shape[1]
        h = h[:, -logits_to_keep:] if logits_to_keep else h
        return types.SimpleNamespace(logits=self.head(h), past_key_values=[seen] if use_cache else None)

    def generate(self, input_ids, attention_mask=None, max_new_tokens=1, min_new_tokens=0, do_sample=False, pad_token_id=None):
        ids, past, tok = input_ids, None, input_ids
        for _ in range(max_new_tokens):
            out = self(input_ids=tok, past_key_values=past, use_cache=True)
            past, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
            ids = torch.cat([ids, tok], dim=1)
        return ids


def _load(path, config, dtype, device_map):
    if config is None:
        with open(os.path.join(path, "config.json")) as f:
            config = _Config(**json.load(f))
    config._attn_implementation = "stub"
    return _Tiny(config).to(dtype=dtype, device=device_map)


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(path, dtype=None, torch_dtype=None, device_map=None, config=None):
        if os.environ.get("STUB_AUTO_FAIL") == "1":
            raise ValueError("stub: AutoModelForCausalLM refused (STUB_AUTO_FAIL=1)")
        return _load(path, config, dtype or torch_dtype, device_map)


class LlamaConfig(_Config):
    pass


class LlamaForCausalLM(AutoModelForCausalLM):
    @staticmethod
    def from_pretrained(path, dtype=None, torch_dtype=None, device_map=None, config=None):
        return _load(path, config, dtype or torch_dtype, device_map)
