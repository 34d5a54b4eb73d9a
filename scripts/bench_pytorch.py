#!/usr/bin/env python3
"""The PyTorch CPU reference for `npm run bench` (docs/performance.md).

The same GPT-2 as the lab (docs/specification.md §4: tied LM head, GELU tanh, pre-LayerNorm, no dropout)
and the same training step (masked cross-entropy, backward, global-norm clip, AdamW), written
the straightforward nanoGPT way. Prints one JSON line like the lab's bench. Needs torch; it is
not part of the lab or its tests:  python3 scripts/bench_pytorch.py [--steps 100] [--threads N]
The model's shape and batch default to the full-run model's (the ladder's S); scripts/bench-ladder.ts
passes each rung's (--n-layer … --seq) and its step's product FLOPs (--flops, for step_gflops).
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
MANUAL = False
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, nh):
        super().__init__()
        self.nh = nh
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def attn(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.nh, C // self.nh).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if MANUAL:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
            att = att.masked_fill(torch.ones(T, T).tril() == 0, float("-inf")).softmax(dim=-1)
            y = att @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, block_size, n_layer, nh, C):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(block_size, C)
        self.h = nn.ModuleList(Block(C, nh) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.T  # (B, T, V), tied head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=126)
    ap.add_argument("--n-layer", type=int, default=2)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=44)
    ap.add_argument("--positions", type=int, default=128)
    ap.add_argument("--flops", type=float, default=None, help="the step's product FLOPs (core/bench/ladder.ts)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    V, n_layer, nh, C = args.vocab, args.n_layer, args.n_head, args.n_embd  # default: the train_golden_v2 model
    model = GPT(V, args.positions, n_layer, nh, C)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
    x = torch.randint(0, V, (args.batch, args.seq))
    y = torch.randint(0, V, (args.batch, args.seq))
    mask = torch.ones(args.batch, args.seq)

    def step():
        logits = model(x)
        nll = F.cross_entropy(logits.view(-1, V), y.view(-1), reduction="none")
        loss = (nll * mask.view(-1)).sum() / mask.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    t = time.perf_counter()
    step()
    first = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    print(json.dumps({
        "runtime": f"python torch {torch.__version__} threads={torch.get_num_threads()}",
        "backend": "pytorch-cpu",
        "model": f"gpt n_layer={n_layer} n_head={nh} n_embd={C} vocab={V}",
        "batch_size": args.batch,
        "seq_len": args.seq,
        "ms_per_step": round(ms, 1),
        "tokens_per_s": round(args.batch * args.seq / (ms / 1000)),
        "first_step_ms": round(first),
        "steps_measured": len(times),
        "step_gflops": round(args.flops / ms / 1e6, 1) if args.flops else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    }))


if __name__ == "__main__":
    main()
