#!/usr/bin/env python3
"""Results table of the README: what calibrate does to the trained test models.

For each trained model in testdata/trained and each calibrate variant below, runs
`moe-recal calibrate` on testdata/trained/calibration.jsonl (or data-free), then
`moe-recal eval INPUT OUT` on the held-out text of all three domains (one file, one
slice per domain) and prints one Markdown table per model: held-out maxvio (inherited
-> new), dead/cold experts, KL mean, top-1 agreement, perplexity ratio, and KL and
maxvio change per domain.

usage: tools/results_table.py BUILD_DIR [--work DIR] [--models NAME ...] [--json FILE]
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINED = os.path.join(ROOT, "testdata", "trained")
DOMAINS = ["licenses", "python", "c_headers"]  # slice names; files heldout-<name with '-'>.jsonl
CAL = os.path.join(TRAINED, "calibration.jsonl")

# (label, calibrate arguments); "{cal}" is the calibration file.
VARIANTS = [
    ("data-free, --steps 1 (default)", []),
    ("data-free, --alpha 0.25", ["--alpha", "0.25"]),
    ("data-free, --steps converge", ["--steps", "converge"]),
    ("activations, --steps 1 --centre off", ["--data", "{cal}", "--steps", "1", "--centre", "off"]),
    ("activations, --steps 1 (centred)", ["--data", "{cal}", "--steps", "1"]),
    ("activations, --alpha 0.25 --centre off", ["--data", "{cal}", "--alpha", "0.25", "--centre",
                                                "off"]),
    ("activations, --alpha 0.25 (centred)", ["--data", "{cal}", "--alpha", "0.25"]),
    ("--data, --kl-budget 0.02 (default)", ["--data", "{cal}"]),
    ("--data, --kl-budget 0.02 --centre off", ["--data", "{cal}", "--centre", "off"]),
    ("--data, --kl-budget 0.05", ["--data", "{cal}", "--kl-budget", "0.05"]),
]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr}")
    return p


def heldout_file(work):
    path = os.path.join(work, "heldout-all.jsonl")
    with open(path, "w") as out:
        for d in DOMAINS:
            with open(os.path.join(TRAINED, f"heldout-{d.replace('_', '-')}.jsonl")) as f:
                out.write(f.read())
    return path


def measure(binary, model, args, heldout, work):
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    args = [a.replace("{cal}", CAL) for a in args]
    t0 = time.monotonic()
    run([binary, "calibrate", model, "-o", out, "--json", *args])
    seconds = time.monotonic() - t0
    with open(os.path.join(out, "router-changelog.json")) as f:
        entry = json.load(f)["entries"][-1]
    report = os.path.join(work, "report.json")
    run([binary, "eval", model, out, "--data", heldout, "-o", report])
    with open(report) as f:
        r = json.load(f)
    sel = entry.get("selection") or {}
    row = {"seconds": seconds, "calib_kl": sel.get("kl_mean"), "strategy": sel.get("strategy"),
           "t": sel.get("t"), "trials": sel.get("trials"), "all": r["metrics"]}
    for d in DOMAINS:
        row[d] = r["slices"][d]["metrics"]
    return row


def pct(before, after):
    return 100.0 * (after - before) / before if before else float("nan")


def table(name, rows):
    m0 = rows[0][1]["all"]
    lines = [
        f"**{name}** (held-out, all domains: inherited maxvio {m0['routing.maxvio.base']:.2f}, "
        f"dead {m0['routing.dead.base']:g}, cold {m0['routing.cold.base']:g}, "
        f"perplexity {m0['ppl.base']:.2f})",
        "",
        "| variant | chosen | calib KL | maxvio | dead / cold | KL mean | top-1 | ppl ratio "
        "| KL lic / py / C | maxvio Δ lic / py / C |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, row in rows:
        m = row["all"]
        chosen = "—"
        if row["strategy"]:
            chosen = f"{row['strategy']} t={row['t']:.2f}, {row['trials']} trials"
        calib = f"{row['calib_kl']:.4f}" if row["calib_kl"] is not None else "unmeasured"
        mv = f"{m['routing.maxvio.base']:.2f} → {m['routing.maxvio.cand']:.2f} " \
             f"({pct(m['routing.maxvio.base'], m['routing.maxvio.cand']):+.0f}%)"
        kls = " / ".join(f"{row[d]['kl.mean']:.3f}" for d in DOMAINS)
        dmv = " / ".join(
            f"{pct(row[d]['routing.maxvio.base'], row[d]['routing.maxvio.cand']):+.0f}%"
            for d in DOMAINS)
        lines.append(
            f"| {label} | {chosen} | {calib} | {mv} "
            f"| {m['routing.dead.cand']:g} / {m['routing.cold.cand']:g} | {m['kl.mean']:.4f} "
            f"| {m['top1_agree']:.3f} | {math.exp(m['ppl.ln_ratio']):.3f} | {kls} | {dmv} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--work", help="scratch directory (default: a temporary one)")
    ap.add_argument("--models", nargs="*", default=["trained-olmoe", "trained-qwen3-moe"])
    ap.add_argument("--json", help="also write every measured figure here")
    a = ap.parse_args()
    binary = os.path.join(a.build, "moe-recal")
    work = a.work or tempfile.mkdtemp(prefix="moe-recal-results-")
    os.makedirs(work, exist_ok=True)
    heldout = heldout_file(work)
    everything = {}
    for name in a.models:
        model = os.path.join(TRAINED, name)
        rows = []
        for label, args in VARIANTS:
            rows.append((label, measure(binary, model, args, heldout, work)))
            print(f"{name}: {label} done in {rows[-1][1]['seconds']:.1f} s", file=sys.stderr)
        everything[name] = dict(rows)
        print(table(name, rows) + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(everything, f, indent=1)


if __name__ == "__main__":
    main()
