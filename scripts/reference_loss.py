#!/usr/bin/env python3
"""Independent NumPy re-implementation of the lab's model and evaluation loss (docs/specification.md §3, §4, §7).

Reads a checkpoint by its GPT-2 tensor names with nothing but the standard library and NumPy,
runs GPT-2 forward, and prints the teacher-forced completion loss (token-weighted, <eos> target
included) over a trace JSONL file:

    npm run -s export-dataset -- golden-v2 > /tmp/golden-v2.jsonl
    python3 scripts/reference_loss.py artifacts/checkpoints/run/checkpoint-step2000.safetensors /tmp/golden-v2.jsonl

Output: {"loss": ..., "tokens": ..., "items": ...}
"""
import json
import math
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[base + begin : base + end], dtype="<f4").reshape(info["shape"])
    return tensors, meta


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def forward(W, ids, n_layer, n_head):
    """ids: (T,) int -> logits (T, V), float64 throughout."""
    T = len(ids)
    x = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][:T]  # (T, C)
    C = x.shape[1]
    hs = C // n_head
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    for l in range(n_layer):
        p = f"transformer.h.{l}."
        a = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"])
        qkv = a @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]  # (T, 3C)
        q, k, v = np.split(qkv, 3, axis=1)
        q, k, v = (t.reshape(T, n_head, hs).transpose(1, 0, 2) for t in (q, k, v))  # (nh, T, hs)
        att = q @ k.transpose(0, 2, 1) / math.sqrt(hs)  # (nh, T, T)
        att = np.where(causal, -np.inf, att)
        att = np.exp(att - att.max(-1, keepdims=True))
        att = att / att.sum(-1, keepdims=True)
        y = (att @ v).transpose(1, 0, 2).reshape(T, C)  # (T, C)
        x = x + y @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        m = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"])
        x = x + gelu(m @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]) @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    x = layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"])
    return x @ W["transformer.wte.weight"].T  # tied head


def main(ckpt_path, jsonl_path, max_items=None):
    tensors, meta = load_safetensors(ckpt_path)
    W = {k: v.astype(np.float64) for k, v in tensors.items() if not k.startswith("optimizer.")}
    config = json.loads(meta["config"])
    vocab = json.loads(meta["vocab"])
    ids_of = {tok: i for i, tok in enumerate(vocab)}
    BOS, EOS, UNK = 1, 2, 3
    enc = lambda s: [ids_of.get(ch, UNK) for ch in s]
    traces = [json.loads(line) for line in open(jsonl_path, encoding="utf-8") if line.strip()]
    if max_items:
        traces = traces[:max_items]
    total, count = 0.0, 0
    for tr in traces:
        steps = sorted(tr["steps"], key=lambda s: s["i"])
        text = f"Q: {tr['prompt']}\n" + "".join(f"Step {k + 1}: {s['content']}\n" for k, s in enumerate(steps)) + f"A: {tr['final_answer']}"
        cut = text.index("\n") + 1
        prompt_ids = [BOS] + enc(text[:cut])
        ids = prompt_ids + enc(text[cut:]) + [EOS]
        ids = ids[: config["model"]["block_size"] + 1]
        logits = forward(W, np.array(ids[:-1]), config["model"]["n_layer"], config["model"]["n_head"])
        logp = logits - logits.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        for t in range(len(prompt_ids) - 1, len(ids) - 1):  # targets ids[t+1] in the completion
            total -= logp[t, ids[t + 1]]
            count += 1
    print(json.dumps({"loss": total / count, "tokens": count, "items": len(traces)}))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
