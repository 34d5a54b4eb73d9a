"""The lab's data order, batches and learning-rate schedule (docs/specification.md §5).

The data order is a per-epoch shuffle by MT19937 with Python's `random.Random` semantics: the lab's
generator (src/lib/core/prng.ts) is Python's, so `random.Random` with the checkpoint's saved state
draws the same order. The schedule is src/lib/core/train/schedule.ts's formula.
"""
import math
import random


class DataOrder:
    """Trace indices, batch after batch; (epoch, cursor, rng at the epoch's start) resumes it exactly."""

    def __init__(self, n, state):
        if n < 1:
            raise SystemExit("the training dataset is empty")
        self.n = n
        self.rng = random.Random()
        self.rng.setstate((3, tuple(state["rng"]["mt"]) + (state["rng"]["index"],), None))
        self.epoch_start = state["rng"]
        self.epoch = state["epoch"]
        self.order = self._shuffled()
        self.cursor = state["cursor"]

    def _shuffled(self):
        order = list(range(self.n))
        self.rng.shuffle(order)
        return order

    def next(self, size):
        out = []
        while len(out) < size:
            if self.cursor >= self.n:
                self.epoch += 1
                self.cursor = 0
                words = self.rng.getstate()[1]
                self.epoch_start = {"mt": list(words[:624]), "index": words[624]}
                self.order = self._shuffled()
            out.append(self.order[self.cursor])
            self.cursor += 1
        return out

    def state(self):
        return {"epoch": self.epoch, "cursor": self.cursor, "rng": self.epoch_start}


def make_batch(examples, loss_on, pad):
    """Padded (inputs, targets, mask) lists, (B, T) each: inputs ids[:-1], targets ids[1:]."""
    T = max(len(e["ids"]) for e in examples) - 1
    inputs, targets, mask = [], [], []
    for e in examples:
        ids, n = e["ids"], len(e["ids"]) - 1
        inputs.append(ids[:-1] + [pad] * (T - n))
        targets.append(ids[1:] + [pad] * (T - n))
        mask.append([1.0 if loss_on == "all" or t + 1 >= e["prompt_length"] else 0.0 for t in range(n)] + [0.0] * (T - n))
    return inputs, targets, mask


def learning_rate(s, train):
    """The learning rate of the update with 0-based index s: linear warmup, then cosine to min_lr."""
    if s < train["warmup_steps"]:
        return train["lr"] * (s + 1) / train["warmup_steps"]
    span = max(1, train["steps"] - train["warmup_steps"])
    ratio = min(1, (s - train["warmup_steps"]) / span)
    return train["min_lr"] + 0.5 * (1 + math.cos(math.pi * ratio)) * (train["lr"] - train["min_lr"])
