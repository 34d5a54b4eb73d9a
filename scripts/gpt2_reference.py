#!/usr/bin/env python3
"""Independent GPT-2 forward pass over a Hugging Face model folder, with NumPy only.

Written from the published architecture and `transformers`' GPT2LMHeadModel conventions, not from
the lab's code: config.json keys, model.safetensors (F32, F16 or BF16; names with or without the
`transformer.` prefix; `attn.bias` mask buffers ignored), Conv1D weights laid out [in, out],
gelu_new, LayerNorm with config's layer_norm_epsilon, the head tied to wte.

    python3 scripts/gpt2_reference.py <model dir> <ids.json> <logits.f32>

ids.json holds one list of token ids; logits.f32 receives (T, V) float32 little-endian logits.

    python3 scripts/gpt2_reference.py loss <model dir> <examples.json> [<PEFT adapter dir>]

examples.json holds [{"ids": [...], "prompt_length": n}, ...]; prints {"loss": ...}, the
teacher-forced cross-entropy of every target from ids[n] on, token-weighted over all examples.
With an adapter folder (adapter_config.json + adapter_model.safetensors, PEFT's LoRA layout:
`base_model.model.<module>.lora_A.weight` (r, in), `lora_B.weight` (out, r), scaling lora_alpha / r,
fan_in_fan_out for GPT-2's Conv1D) the update is added to the base weights first.
"""
import json
import math
import struct
import sys

import numpy as np


def load_weights(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    W = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = data[base + begin : base + end]
        if info["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{name}: dtype {info['dtype']}")
        key = name[len("transformer.") :] if name.startswith("transformer.") else name
        W[key] = a.reshape(info["shape"]).astype(np.float64)
    return W


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_new(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * np.power(x, 3.0))))


def gpt2_logits(W, cfg, ids):
    T = len(ids)
    eps = cfg["layer_norm_epsilon"]
    h = W["wte.weight"][ids] + W["wpe.weight"][np.arange(T)]  # (T, C)
    C = h.shape[1]
    nh = cfg["n_head"]
    hd = C // nh
    future = np.triu(np.ones((T, T), dtype=bool), k=1)
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        a = layer_norm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        qkv = a @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]  # Conv1D: x @ W + b, (T, 3C)
        q, k, v = (qkv[:, j * C : (j + 1) * C].reshape(T, nh, hd).transpose(1, 0, 2) for j in range(3))
        w = (q @ k.transpose(0, 2, 1)) / math.sqrt(hd)  # (nh, T, T)
        w = np.where(future, -1e30, w)
        w = np.exp(w - w.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        o = (w @ v).transpose(1, 0, 2).reshape(T, C)
        h = h + o @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        m = layer_norm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        h = h + gelu_new(m @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"]) @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    h = layer_norm(h, W["ln_f.weight"], W["ln_f.bias"], eps)
    return h @ W["wte.weight"].T  # (T, V)


def add_peft_adapter(W, adapter_dir):
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    assert cfg["peft_type"] == "LORA" and cfg["fan_in_fan_out"], cfg
    scaling = cfg["lora_alpha"] / cfg["r"]
    A = load_weights(f"{adapter_dir}/adapter_model.safetensors")
    prefix = "base_model.model."
    for name in A:
        if not name.endswith(".lora_A.weight"):
            continue
        module = name[: -len(".lora_A.weight")]
        B = A[module + ".lora_B.weight"]  # (out, r)
        module = module[len(prefix) :] if module.startswith(prefix) else module
        module = module[len("transformer.") :] if module.startswith("transformer.") else module
        W[module + ".weight"] = W[module + ".weight"] + scaling * (B @ A[name]).T  # (in, out) like Conv1D


def completion_loss(model_dir, examples_path, adapter_dir=None):
    cfg = json.load(open(f"{model_dir}/config.json"))
    W = load_weights(f"{model_dir}/model.safetensors")
    if adapter_dir:
        add_peft_adapter(W, adapter_dir)
    total, count = 0.0, 0
    for ex in json.load(open(examples_path)):
        ids = np.array(ex["ids"])
        logits = gpt2_logits(W, cfg, ids[:-1])
        logp = logits - logits.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        for t in range(ex["prompt_length"] - 1, len(ids) - 1):  # predicts ids[t + 1]
            total -= logp[t, ids[t + 1]]
            count += 1
    print(json.dumps({"loss": total / count, "tokens": count}))


def main(model_dir, ids_path, out_path):
    cfg = json.load(open(f"{model_dir}/config.json"))
    W = load_weights(f"{model_dir}/model.safetensors")
    ids = json.load(open(ids_path))
    gpt2_logits(W, cfg, np.array(ids)).astype("<f4").tofile(out_path)


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "loss":
        completion_loss(*sys.argv[2:])
    elif len(sys.argv) == 4:
        main(*sys.argv[1:])
    else:
        sys.exit(__doc__)
