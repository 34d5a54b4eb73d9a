#!/usr/bin/env python3
"""Continue a lab run in PyTorch, on one process or under torchrun (docs/torch.md).

    npm run torch -- prepare --config configs/quick.yaml --out runs/r1      # or --from <lab run dir>
    torchrun --standalone --nproc_per_node 4 torch/train.py --run-dir runs/r1
    npm run torch -- finish --run-dir runs/r1                               # run.json, evaluation, a bundle

The run directory holds what `prepare` wrote: run.json (the config), torch-handoff.json (the
training traces as the lab's token ids, the checkpoint to start from, the base model of a LoRA
run) and that checkpoint. Training follows the lab exactly (docs/specification.md §5): the same
model, data order, batches, masked loss, AdamW (β 0.9/0.95, ε 1e-8, decay on matrices only),
schedule and clipping. Each process takes an equal share of every global batch
(DistributedDataParallel averages the gradients, each share's loss is scaled so that the average
is the global batch's token-weighted mean). Rank 0 appends metrics.jsonl and writes checkpoints in
the lab's format, which the lab resumes, evaluates and imports.
"""
import argparse
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_checkpoint import read_lab_checkpoint, read_safetensors, write_lab_checkpoint  # noqa: E402
from lab_data import DataOrder, learning_rate, make_batch  # noqa: E402
from lab_model import LabGPT, decays, slot, token_nll_sum  # noqa: E402

BETAS = (0.9, 0.95)
EPS = 1e-8
LAB_PREFIXES = ("wte.", "wpe.", "h.", "ln_f.")


def fail(message):
    print(f"torch/train.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        fail(f"{path} is missing: {what}")
    except json.JSONDecodeError as e:
        fail(f"{path} is not valid JSON ({e}); run `npm run torch -- prepare` again")


def base_weights(path):
    """A Hugging Face GPT-2 model.safetensors under the lab's names (transformer.…; attn.bias masks and lm_head left out)."""
    tensors, _ = read_safetensors(path)
    out = {}
    for name, a in tensors.items():
        short = name[len("transformer.") :] if name.startswith("transformer.") else name
        if short.startswith(LAB_PREFIXES) and not short.endswith((".attn.bias", ".attn.masked_bias")):
            out["transformer." + short] = a
    return out


def setup():
    """(rank, world size, device, process-group backend or None) from torchrun's environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available() and os.environ.get("LAB_TORCH_DEVICE", "") != "cpu"
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    backend = None
    if world > 1:
        backend = "nccl" if cuda else "gloo"
        dist.init_process_group(backend)
    return rank, world, device, backend


def main():
    ap = argparse.ArgumentParser(description="Continue a lab run in PyTorch (docs/torch.md).")
    ap.add_argument("--run-dir", required=True, help="a run directory written by `npm run torch -- prepare`")
    ap.add_argument("--steps", type=int, default=None, help="stop after this step (default: the config's train.steps)")
    ap.add_argument("--quiet", action="store_true", help="leave out what to run next (the parity command's replay)")
    args = ap.parse_args()
    torch.manual_seed(0)  # dropout's masks (the lab's are drawn differently: parity needs dropout 0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    rd = args.run_dir
    run = read_json(os.path.join(rd, "run.json"), "not a run directory; run `npm run torch -- prepare` first")
    handoff = read_json(os.path.join(rd, "torch-handoff.json"), "run `npm run torch -- prepare` first")
    config = run["config"]
    train, gpt_cfg = config["train"], dict(config["model"])
    rank, world, device, backend = setup()
    B = train["batch_size"]
    if B % world:
        fail(f"train.batch_size {B} does not split across {world} processes: use a --nproc_per_node that divides it")
    local_b = B // world

    # the newest checkpoint in the directory: prepare's, or this trainer's own after a stop or crash
    params, m, v, meta = read_lab_checkpoint(newest_checkpoint(rd, handoff["checkpoint"]))
    start = int(meta["step"])
    if rank == 0:
        truncate_metrics(os.path.join(rd, "metrics.jsonl"), start)
    state = json.loads(meta["trainer_state"])
    lora = config["lora"] if handoff["lora"] else None
    frozen = base_weights(handoff["base_model"]) if lora is not None else {}
    vocab_size = handoff["vocab_size"]
    gpt_cfg.pop("init", None)
    gpt_cfg["vocab_size"] = vocab_size

    model = LabGPT(gpt_cfg, params, frozen, lora).to(device)
    model.train()
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    named = [(n, model.trained[slot(n)]) for n in model.names]
    wd = train["weight_decay"]
    groups = [
        {"params": [p for n, p in named if decays(n, p.shape)], "weight_decay": wd},
        {"params": [p for n, p in named if not decays(n, p.shape)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=train["lr"], betas=BETAS, eps=EPS)
    adam_t = state["adam_t"]
    if m:
        for n, p in named:
            opt.state[p] = {
                "step": torch.tensor(float(adam_t)),
                "exp_avg": torch.from_numpy(m[n].copy()).to(device),
                "exp_avg_sq": torch.from_numpy(v[n].copy()).to(device),
            }
    order = DataOrder(len(handoff["examples"]), state)
    examples = handoff["examples"]
    total = train["steps"] if args.steps is None else min(args.steps, train["steps"])
    every = config["checkpoint"]["every_steps"]
    carried = {k: meta[k] for k in ("config", "vocab", "dataset", "base_model") if k in meta}
    elapsed_before, started = state["elapsed_s"], time.time()
    trained = [p for _, p in named]
    max_norm = train["grad_clip"] if train["grad_clip"] > 0 else float("inf")
    metrics = open(os.path.join(rd, "metrics.jsonl"), "a", encoding="utf-8") if rank == 0 else None

    def checkpoint(step):
        if rank != 0:
            return
        st = {
            **order.state(),
            "schedule": {k: train[k] for k in ("lr", "min_lr", "warmup_steps", "steps")} | {"step": step},
            "adam_t": adam_t,
            "elapsed_s": elapsed_before + time.time() - started,
        }
        cpu = lambda t: t.detach().cpu().numpy()  # noqa: E731
        write_lab_checkpoint(
            os.path.join(rd, f"checkpoint-step{step}.safetensors"),
            {n: cpu(p) for n, p in named},
            {n: cpu(opt.state[p]["exp_avg"]) for n, p in named},
            {n: cpu(opt.state[p]["exp_avg_sq"]) for n, p in named},
            step,
            st,
            carried,
        )

    step = start
    while step < total:
        t0 = time.time()
        batch = [examples[i] for i in order.next(B)]
        count = sum(counted(e, config["data"]["loss_on"]) for e in batch)
        mine = batch[rank * local_b : (rank + 1) * local_b]
        inputs, targets, mask = (torch.tensor(x, device=device) for x in make_batch(mine, config["data"]["loss_on"], handoff["pad"]))
        logits = net(inputs)
        nll = token_nll_sum(logits, targets, mask)
        # DDP averages gradients over the processes: scaled so that the average is the global mean
        (nll * (world / max(count, 1))).backward()
        loss_sum = nll.detach().clone()
        if world > 1:
            dist.all_reduce(loss_sum)
        loss = loss_sum.item() / max(count, 1)
        norm = float(torch.nn.utils.clip_grad_norm_(trained, max_norm))
        if not (math.isfinite(loss) and math.isfinite(norm)):
            if rank == 0:
                print(
                    f"torch/train.py: non-finite training value at step {step + 1} (loss {loss}, grad_norm {norm}); "
                    "no checkpoint was written from this step; run torch/train.py again to continue from the newest checkpoint, "
                    "or prepare a new run with a lower train.lr or a train.grad_clip.",
                    file=sys.stderr,
                )
            sys.exit(1)
        lr = learning_rate(step, train)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        opt.zero_grad(set_to_none=True)
        adam_t += 1
        step += 1
        if metrics:
            tokens = sum(len(e["ids"]) - 1 for e in batch)
            line = {"step": step, "loss": loss, "lr": lr, "grad_norm": norm, "tokens_per_s": tokens / max(1e-9, time.time() - t0), "elapsed_s": elapsed_before + time.time() - started}
            metrics.write(json.dumps(line) + "\n")
            metrics.flush()
        if step % every == 0 or step == train["steps"] or step == total:
            checkpoint(step)
    if rank == 0:
        info = {
            "torch_version": torch.__version__,
            "world_size": world,
            "process_group": backend,
            "device": device.type if device.type == "cpu" else torch.cuda.get_device_name(device),
            "from_step": start,
            "to_step": step,
        }
        with open(os.path.join(rd, "torch.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2)
        procs = f"{world} process{'es' if world > 1 else ''}"
        hint = "" if args.quiet else f"; now: npm run torch -- finish --run-dir {rd}"
        print(f"trained steps {start + 1}–{step} of {train['steps']} on {procs}, {info['device']}{hint}", file=sys.stderr)
    if world > 1:
        dist.destroy_process_group()


def newest_checkpoint(rd, prepared):
    """The newest checkpoint-step{N}.safetensors in the run directory (prepare's when it is the only one)."""
    steps = []
    for name in os.listdir(rd):
        m = re.fullmatch(r"checkpoint-step(\d+)\.safetensors", name)
        if m:
            steps.append(int(m.group(1)))
    if not steps:
        fail(f"{os.path.join(rd, prepared)} is missing: the run directory holds no checkpoint; run `npm run torch -- prepare` again")
    return os.path.join(rd, f"checkpoint-step{max(steps)}.safetensors")


def truncate_metrics(path, step):
    """metrics.jsonl cut back to the training lines up to `step` (as the lab does on a resume): no step twice."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    kept = [line for line in lines if "split" not in json.loads(line) and json.loads(line)["step"] <= step]
    if len(kept) != len(lines):
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(kept)
        os.replace(tmp, path)


def counted(example, loss_on):
    """How many of an example's targets count in the loss (make_batch's mask, summed)."""
    n = len(example["ids"]) - 1
    return n if loss_on == "all" else n - (example["prompt_length"] - 1)


if __name__ == "__main__":
    main()
