"""Minimal safetensors reader/writer for the reference forward pass (numpy only).

Written from the format description (ARCHITECTURES.md §10-11): an 8-byte little-endian header
length N, N bytes of JSON mapping tensor name -> {dtype, shape, data_offsets}, then the byte buffer
the offsets index into. A Hugging Face checkpoint is either `model.safetensors` or shards resolved
through `model.safetensors.index.json` (`weight_map`: name -> shard file). Shares no code with the
C++ reader or with the other tools/ scripts on purpose. F8_E4M3 (DeepSeek-V3 FP8 checkpoints) is
decoded from its bit pattern; dequantisation with the `*_scale_inv` block scales lives in
tools/ref_deepseek.py.
"""
import json
import math
import os
import struct

import numpy as np

_DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
           "BF16": np.dtype("<u2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
           "F8_E4M3": np.dtype("u1"),
           "U8": np.dtype("u1")}  # U8: gpt-oss MXFP4 blocks/scales (read raw with dtype=np.uint8)


def _bf16_to_f32(raw):
    return (raw.astype(np.uint32) << 16).view(np.float32)


# ---------------------------------------------------------------------------------------------
# FP8 e4m3fn (ARCHITECTURES.md §13): 1 sign bit, 4 exponent bits (bias 7), 3 mantissa bits; no
# infinities; 0x7F and 0xFF are NaN; largest finite 448 (0x7E); exponent field 0 holds the
# subnormals m * 2^-9.

def _e4m3_table():
    codes = np.arange(256)
    sign = np.where(codes & 0x80, -1.0, 1.0)
    e, m = (codes >> 3) & 0xF, codes & 0x7
    mag = np.where(e == 0, m * 2.0 ** -9, (1.0 + m / 8.0) * 2.0 ** (e - 7.0))
    mag = np.where((e == 15) & (m == 7), np.nan, mag)
    return sign * mag


E4M3_VALUES = _e4m3_table()  # float64 value of every code 0..255
E4M3_MAX = 448.0


def e4m3_to_float(codes):
    """uint8 e4m3fn codes -> float64 values (NaN for 0x7F / 0xFF)."""
    return E4M3_VALUES[np.asarray(codes, dtype=np.uint8)]


def float_to_e4m3(x):
    """float array -> uint8 e4m3fn codes, round to nearest, ties to the even code. |x| up to
    the rounding boundary above 448 (464) saturates to 448; NaN -> 0x7F; anything larger raises."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(np.abs(x[~np.isnan(x)]) >= 464.0):
        raise ValueError("value out of the e4m3fn range (|x| >= 464)")
    pos = E4M3_VALUES[:0x7F]  # codes 0x00..0x7E, increasing
    a = np.abs(np.nan_to_num(x))
    hi = np.clip(np.searchsorted(pos, a, side="left"), 0, 0x7E)
    lo = np.clip(hi - 1, 0, 0x7E)
    d_lo, d_hi = a - pos[lo], pos[hi] - a
    pick = np.where(d_lo < d_hi, lo, hi)
    tie = d_lo == d_hi
    pick = np.where(tie & (lo != hi), np.where(lo % 2 == 0, lo, hi), pick)
    code = pick.astype(np.uint8) | np.where(np.signbit(x), 0x80, 0).astype(np.uint8)
    return np.where(np.isnan(x), np.uint8(0x7F), code).astype(np.uint8)


def f32_to_bf16_bits(x):
    """float array -> uint16 bf16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")


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
    elif kind == "F8_E4M3":  # the e4m3fn values themselves; block scales are the caller's business
        a = e4m3_to_float(a)
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


def write_file(path, tensors, metadata=None, dtypes=None):
    """Write {name: np.ndarray (float32/64, int32/64 or uint8)} as a safetensors file, names sorted.
    dtypes {name: "BF16" | "F8_E4M3"} stores that tensor narrowed (round to nearest even; a
    uint16 / uint8 array is taken as the bit patterns themselves)."""
    kinds = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64",
             np.dtype("int32"): "I32", np.dtype("uint8"): "U8"}
    dtypes = dtypes or {}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        kind = dtypes.get(name) or kinds[a.dtype]
        if kind == "BF16" and a.dtype != np.uint16:
            a = f32_to_bf16_bits(a)
        elif kind == "F8_E4M3" and a.dtype != np.uint8:
            a = float_to_e4m3(a)
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": kind, "shape": list(a.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
