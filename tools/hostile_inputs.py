#!/usr/bin/env python3
"""Writes the hostile inputs whose bounds the man page states (LIMITS) into OUTDIR:

  header-100mb/      a checkpoint whose one shard has a header of exactly 100,000,000 bytes
                     (~1.5 million U8 tensors of one byte), config.json of tiny-olmoe
  tokenizer-huge/    tokenizer.json with a 1.3-million-entry vocabulary, 651,000 merges of which
                     1000 form one chain ("a a", "aa a", ...: a run of 1001 'a' is one token)
  line-1gb.jsonl     one line of 1 GiB ('{"text": "' then NUL bytes; sparse, no disk used)

Usage: tools/hostile_inputs.py OUTDIR; then time `moe-recal inspect OUTDIR/header-100mb`,
`moe-recal tokenize OUTDIR/tokenizer-huge FILE` and `moe-recal tokenize MODEL line-1gb.jsonl`
(e.g. under /usr/bin/time -v for the peak RSS)."""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT = 100_000_000


def header_at_limit(out):
    os.makedirs(out, exist_ok=True)
    parts, size, i = [], 1, 0  # size counts "{" ... "}"
    while True:
        entry = json.dumps(f"t{i:07d}") + ':{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}' % (i, i + 1)
        if size + len(entry) + 1 > LIMIT:
            break
        parts.append(entry)
        size += len(entry) + (1 if i else 0)
        i += 1
    text = ("{" + ",".join(parts) + "}").encode()
    text += b" " * (LIMIT - len(text))
    with open(os.path.join(out, "model.safetensors"), "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + bytes(i))
    shutil.copy(os.path.join(HERE, "..", "testdata", "tiny-olmoe", "config.json"), out)
    return i


def huge_tokenizer(out, n=650_000):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(HERE, "..", "testdata", "trained", "trained-olmoe", "tokenizer.json")) as fh:
        tok = json.load(fh)
    vocab = dict(tok["model"]["vocab"])
    merges, prev = [], "a"
    for k in range(1000):  # a 1000-deep chain: "a a", "aa a", "aaa a", ...
        merges.append([prev, "a"])
        prev += "a"
        vocab.setdefault(prev, len(vocab))
    for k in range(n):  # then n unrelated merges, two vocabulary entries each
        vocab.setdefault(f"x{k}", len(vocab))
        vocab.setdefault(f"x{k}a", len(vocab))
        merges.append([f"x{k}", "a"])
    tok["model"]["vocab"], tok["model"]["merges"] = vocab, merges
    with open(os.path.join(out, "tokenizer.json"), "w") as fh:
        json.dump(tok, fh)
    return len(vocab)


def one_gb_line(path):
    with open(path, "wb") as fh:
        fh.write(b'{"text": "')
        fh.truncate(1 << 30)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    print("header-100mb:", header_at_limit(os.path.join(out, "header-100mb")), "tensors")
    print("tokenizer-huge:", huge_tokenizer(os.path.join(out, "tokenizer-huge")), "vocabulary entries")
    one_gb_line(os.path.join(out, "line-1gb.jsonl"))
    print("line-1gb.jsonl: 1 GiB")


if __name__ == "__main__":
    main()
