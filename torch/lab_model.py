"""The lab's GPT-2 (docs/specification.md §4) in PyTorch, with its LoRA adapters (docs/pretrained.md).

Weights keep the lab's GPT-2 names and layout: linear weights are [in, out] (GPT-2's Conv1D), the
LM head is tied to wte, LayerNorm eps 1e-5, gelu with the tanh approximation. The same math as
src/lib/core/model/gpt.ts and lora.ts, written with torch ops.
"""
import math

import torch
import torch.nn.functional as F

LN_EPS = 1e-5


def slot(name):
    """A ParameterDict key for a GPT-2 name (keys may not hold '.')."""
    return name.replace(".", "__")


class LabGPT(torch.nn.Module):
    """GPT-2 over named tensors: `trained` are parameters, `frozen` (LoRA's base model) buffers.

    gpt: {n_layer, n_head, n_embd, block_size, vocab_size, dropout}; lora: the config's lora
    settings when adapters train, else None.
    """

    def __init__(self, gpt, trained, frozen, lora):
        super().__init__()
        self.gpt, self.lora = gpt, lora
        self.names = list(trained)
        self.trained = torch.nn.ParameterDict({slot(n): torch.nn.Parameter(torch.from_numpy(a.copy())) for n, a in trained.items()})
        for n, a in frozen.items():
            self.register_buffer(slot(n), torch.from_numpy(a.copy()), persistent=False)

    def w(self, name):
        """A weight by GPT-2 name: trained or frozen."""
        key = slot(name)
        return self.trained[key] if key in self.trained else getattr(self, key)

    def linear(self, x, name):
        """x (N, in) @ W (in, out) + b, with the layer's LoRA update (alpha/r)·drop(x)·A·B when it has one."""
        y = torch.addmm(self.w(name + ".bias"), x, self.w(name + ".weight"))
        if self.lora is not None and slot(name + ".lora_A") in self.trained:
            A, B = self.w(name + ".lora_A"), self.w(name + ".lora_B")  # (in, r), (r, out)
            xd = F.dropout(x, self.lora["dropout"], self.training)
            y = y + (xd @ A @ B) * (self.lora["alpha"] / self.lora["rank"])
        return y

    def layer_norm(self, x, name):
        C = x.shape[-1]
        return F.layer_norm(x, (C,), self.w(name + ".weight"), self.w(name + ".bias"), LN_EPS)

    def forward(self, tokens):
        """tokens (B, T) int64 → logits (B, T, V)."""
        g = self.gpt
        B, T = tokens.shape
        C, nh = g["n_embd"], g["n_head"]
        hs = C // nh
        p = g["dropout"]
        x = self.w("transformer.wte.weight")[tokens] + self.w("transformer.wpe.weight")[:T]  # (B, T, C)
        x = F.dropout(x, p, self.training)
        causal = torch.ones(T, T, dtype=torch.bool, device=tokens.device).triu(1)  # (T, T): True above the diagonal
        for l in range(g["n_layer"]):
            h = f"transformer.h.{l}"
            a = self.layer_norm(x, h + ".ln_1").reshape(B * T, C)  # (B*T, C)
            qkv = self.linear(a, h + ".attn.c_attn").reshape(B, T, 3, nh, hs)  # (B, T, 3, nh, hs)
            q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # (B, nh, T, hs) each
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
            att = F.dropout(att.masked_fill(causal, float("-inf")).softmax(-1), p, self.training)
            y = (att @ v).transpose(1, 2).reshape(B * T, C)  # (B*T, C)
            x = x + F.dropout(self.linear(y, h + ".attn.c_proj"), p, self.training).reshape(B, T, C)
            m = self.layer_norm(x, h + ".ln_2").reshape(B * T, C)  # (B*T, C)
            m = F.gelu(self.linear(m, h + ".mlp.c_fc"), approximate="tanh")  # (B*T, 4C)
            x = x + F.dropout(self.linear(m, h + ".mlp.c_proj"), p, self.training).reshape(B, T, C)
        x = self.layer_norm(x, "transformer.ln_f")  # (B, T, C)
        return x @ self.w("transformer.wte.weight").t()  # (B, T, V)


def token_nll_sum(logits, targets, mask):
    """Σ mask · −log p(target) over the batch (the masked loss's numerator): logits (B, T, V)."""
    V = logits.shape[-1]
    nll = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none")  # (B*T)
    return (nll * mask.reshape(-1)).sum()


def decays(name, shape):
    """Weight decay applies to matrices only: not biases, LayerNorm or the embeddings (adamw.ts)."""
    return len(shape) == 2 and not name.startswith("transformer.wte") and not name.startswith("transformer.wpe")
