#!/usr/bin/env python3
"""Independent check of moe-recal output checkpoints (no code shared with the C++).

For every testdata/tiny-* fixture: run `moe-recal calibrate` into a temporary directory, then
parse every shard of input and output with the small safetensors reader below (written from the
format description), enforce the format rules, and check that
  * every byte outside the router tensors is identical, headers included;
  * every router tensor changed and its values are finite;
  * every non-weight file (config, index, tokenizer...) is byte-identical;
  * routers/router-v0 and -v1 parse and v0 holds the input's router bytes exactly.
Usage: check_output.py --binary build/moe-recal --testdata testdata
Exit 0 when all checks pass; prints one line per failure otherwise.
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

ROUTER = re.compile(r"^model\.layers\.(\d+)\.(block_sparse_moe\.gate|mlp\.gate|mlp\.router)\.weight$")
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
         "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def is_router(name, n_layers):
    """A router weight of a layer the model runs (stored multi-token-prediction layers past
    num_hidden_layers are not run and keep their bytes)."""
    m = ROUTER.match(name)
    return bool(m) and int(m.group(1)) < n_layers


def parse(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), f"{path}: header past end"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    spans = []
    for name, t in header.items():
        b, e = t["data_offsets"]
        numel = math.prod(t["shape"]) if t["shape"] else 1
        assert e - b == numel * SIZES[t["dtype"]], f"{path}: {name}: size mismatch"
        spans.append((b, e, name, t))
    spans.sort()
    pos = 0
    for b, e, name, _ in spans:
        assert b == pos, f"{path}: {name}: gap or overlap at {b}"
        pos = e
    assert 8 + n + pos == len(data), f"{path}: trailing bytes"
    return data, 8 + n, {name: (8 + n + b, 8 + n + e, t) for b, e, name, t in spans}


def floats(raw, dtype):
    if dtype == "F32":
        return struct.unpack(f"<{len(raw) // 4}f", raw)
    halves = struct.unpack(f"<{len(raw) // 2}H", raw)
    if dtype == "BF16":
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in halves]
    return [struct.unpack("<e", struct.pack("<H", h))[0] for h in halves]


def check_fixture(binary, fixture, failures):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        r = subprocess.run([binary, "-q", "calibrate", fixture, "-o", out], capture_output=True)
        if r.returncode != 0:
            failures.append(f"{fixture}: calibrate exited {r.returncode}: {r.stderr.decode()}")
            return
        n_layers = json.load(open(os.path.join(fixture, "config.json")))["num_hidden_layers"]
        v0 = parse(os.path.join(out, "routers", "router-v0.safetensors"))
        parse(os.path.join(out, "routers", "router-v1.safetensors"))
        for name in sorted(os.listdir(fixture)):
            src, dst = os.path.join(fixture, name), os.path.join(out, name)
            if os.path.isdir(src):
                continue
            if not name.endswith(".safetensors"):
                if open(src, "rb").read() != open(dst, "rb").read():
                    failures.append(f"{dst}: differs from the input")
                continue
            a, a_start, a_t = parse(src)
            b, b_start, b_t = parse(dst)
            if a[:a_start] != b[:b_start] or len(a) != len(b):
                failures.append(f"{dst}: header or size differs")
                continue
            mask = bytearray(len(a))
            for tname, (s, e, t) in a_t.items():
                if not is_router(tname, n_layers):
                    continue
                mask[s:e] = b"\x01" * (e - s)
                if a[s:e] == b[s:e]:
                    failures.append(f"{dst}: router {tname} unchanged")
                if not all(math.isfinite(x) for x in floats(b[s:e], t["dtype"])):
                    failures.append(f"{dst}: router {tname} has non-finite values")
                vs, ve, _ = v0[2][tname]
                if v0[0][vs:ve] != a[s:e]:
                    failures.append(f"router-v0: {tname} differs from the input's bytes")
            diff = sum(1 for i in range(len(a)) if not mask[i] and a[i] != b[i])
            if diff:
                failures.append(f"{dst}: {diff} bytes outside router tensors differ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--testdata", required=True)
    args = ap.parse_args()
    fixtures = sorted(os.path.join(args.testdata, d) for d in os.listdir(args.testdata)
                      if d.startswith("tiny-"))
    failures = []
    for fx in fixtures:
        check_fixture(args.binary, fx, failures)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(fixtures) - len({f.split(':')[0] for f in failures})} passed, "
          f"{len(failures)} failed")
    return 1 if failures or not fixtures else 0


if __name__ == "__main__":
    sys.exit(main())
