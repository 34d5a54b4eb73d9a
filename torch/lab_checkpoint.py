"""The lab's checkpoint format (docs/checkpoint-format.md) read and written from Python.

A checkpoint is a safetensors file: an 8-byte little-endian header length, a JSON header, then the
raw little-endian F32 data. The trained tensors come first by GPT-2 name (or, for LoRA, the
adapters `<layer>.lora_A` / `.lora_B`), then the AdamW moments under `optimizer.m.<name>` and
`optimizer.v.<name>`. `__metadata__` holds strings: format, format_version ("2"), step, config,
vocab, trainer_state, dataset, base_model (a fine-tune), tensors_sha256 (the data section) and
metadata_sha256 (the other entries as canonical JSON: sorted keys, no spaces, ASCII only).
"""
import hashlib
import json
import os
import struct

import numpy as np

FORMAT = "tunix-rt-lab/checkpoint"
FORMAT_VERSION = "2"


def read_safetensors(path):
    """(tensors, metadata): tensors as {name: float32 array} in file order; metadata as {key: str}."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        raw = data[base + begin : base + end]
        if info["dtype"] == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif info["dtype"] == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {name} has dtype {info['dtype']}; F32, F16 and BF16 are read")
        tensors[name] = a.reshape(info["shape"]).astype(np.float32)
    return tensors, metadata


def canonical_json(value):
    """The lab's canonical JSON (src/lib/core/data/canonicalJson.ts), which is this call exactly."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def read_lab_checkpoint(path):
    """A lab checkpoint: (params, m, v, metadata), its hashes checked; raises SystemExit saying what is wrong."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise SystemExit(f"{path}: not a Tunix RT Lab checkpoint (__metadata__.format is {meta.get('format')!r})")
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if hashlib.sha256(data[8 + n :]).hexdigest() != meta.get("tensors_sha256"):
        raise SystemExit(f"{path}: its tensor data does not match the sha256 stored with it: the file is damaged")
    if meta.get("format_version") != "1":
        rest = {k: v for k, v in meta.items() if k != "metadata_sha256"}
        if hashlib.sha256(canonical_json(rest).encode()).hexdigest() != meta.get("metadata_sha256"):
            raise SystemExit(f"{path}: its metadata does not match the sha256 stored with it: the file was edited or damaged")
    params, m, v = {}, {}, {}
    for name, a in tensors.items():
        if name.startswith("optimizer.m."):
            m[name[len("optimizer.m.") :]] = a
        elif name.startswith("optimizer.v."):
            v[name[len("optimizer.v.") :]] = a
        else:
            params[name] = a
    return params, m, v, meta


def write_lab_checkpoint(path, params, m, v, step, trainer_state, carried):
    """Writes a lab checkpoint atomically: `params`, `m`, `v` ({name: float32 array}, trained order);
    `carried`: the metadata entries that do not change with training (config, vocab, dataset,
    base_model), passed through as the strings they were."""
    tensors = [(name, params[name]) for name in params]
    tensors += [("optimizer.m." + name, m[name]) for name in params]
    tensors += [("optimizer.v." + name, v[name]) for name in params]
    header, chunks, offset = {}, [], 0
    for name, a in tensors:
        raw = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    body = b"".join(chunks)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tensors_sha256": hashlib.sha256(body).hexdigest(),
        "step": str(step),
        "trainer_state": json.dumps(trainer_state, separators=(",", ":")),
        **carried,
    }
    meta["metadata_sha256"] = hashlib.sha256(canonical_json(meta).encode()).hexdigest()
    head = json.dumps({"__metadata__": meta, **header}, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the data section starts 8-byte aligned
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + body)
    os.replace(tmp, path)
