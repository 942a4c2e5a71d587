"""Minimal safetensors reader/writer for the reference forward pass (numpy only).

Written from the format description (ARCHITECTURES.md §10-11): an 8-byte little-endian header
length N, N bytes of JSON mapping tensor name -> {dtype, shape, data_offsets}, then the byte buffer
the offsets index into. A Hugging Face checkpoint is either `model.safetensors` or shards resolved
through `model.safetensors.index.json` (`weight_map`: name -> shard file). Shares no code with the
C++ reader or with the other tools/ scripts on purpose.
"""
import json
import math
import os
import struct

import numpy as np

_DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
           "BF16": np.dtype("<u2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
           "U8": np.dtype("u1")}  # U8: gpt-oss MXFP4 blocks/scales (read raw with dtype=np.uint8)


def _bf16_to_f32(raw):
    return (raw.astype(np.uint32) << 16).view(np.float32)


def read_file(path):
    """Parse one safetensors file. Returns (tensors {name: (dtype, shape, bytes)}, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} past end of file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    buf = memoryview(data)[8 + n:]
    out = {}
    for name, t in header.items():
        if t["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}': unsupported dtype {t['dtype']}")
        b, e = t["data_offsets"]
        numel = math.prod(t["shape"])
        if e - b != numel * _DTYPES[t["dtype"]].itemsize or e > len(buf):
            raise ValueError(f"{path}: tensor '{name}': byte range does not match shape")
        out[name] = (t["dtype"], tuple(t["shape"]), buf[b:e])
    return out, meta


def to_array(entry, dtype=np.float64):
    """Decode one (dtype, shape, bytes) entry into a C-contiguous numpy array of `dtype`."""
    kind, shape, raw = entry
    a = np.frombuffer(raw, dtype=_DTYPES[kind])
    if kind == "BF16":
        a = _bf16_to_f32(a)
    return a.astype(dtype).reshape(shape)


class Checkpoint:
    """Tensor lookup over a Hugging Face checkpoint directory (single file or sharded index)."""

    def __init__(self, model_dir):
        self.dir = model_dir
        index = os.path.join(model_dir, "model.safetensors.index.json")
        self.entries = {}
        if os.path.exists(index):
            with open(index) as f:
                weight_map = json.load(f)["weight_map"]
            shards = {}
            for name, shard in weight_map.items():
                if shard not in shards:
                    shards[shard] = read_file(os.path.join(model_dir, shard))[0]
                if name not in shards[shard]:
                    raise ValueError(f"{shard}: index names '{name}' but the shard lacks it")
                self.entries[name] = shards[shard][name]
        else:
            self.entries = read_file(os.path.join(model_dir, "model.safetensors"))[0]

    def has(self, name):
        return name in self.entries

    def get(self, name, dtype=np.float64):
        if name not in self.entries:
            raise KeyError(f"{self.dir}: tensor '{name}' not found")
        return to_array(self.entries[name], dtype)


def write_file(path, tensors, metadata=None):
    """Write {name: np.ndarray (float32/64, int32/64 or uint8)} as a safetensors file, names sorted."""
    kinds = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64",
             np.dtype("int32"): "I32", np.dtype("uint8"): "U8"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kinds[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
