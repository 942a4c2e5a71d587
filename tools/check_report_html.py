#!/usr/bin/env python3
"""Checks moe-recal's HTML eval report against its JSON and in a real browser.

  check_report_html.py --binary BIN --testdata DIR   calibrate + eval the tiny OLMoE, then check
  check_report_html.py --report r.json --html r.html check existing files

(a) every data-key/data-value in the HTML equals the JSON value at that key (1e-12 relative) and
    every metric of "metrics" is printed; the slice table (<table class="slices">) has one row for
    all windows and one per slice of the JSON's "slices", in name order, each showing n_scored and
    the headline metrics of that slice, equal to the JSON; a copy with one slice value changed
    must fail that check (so it can fail). The eval runs on the calibration records put into two
    slices; (b) headless Chromium renders the page to a PNG;
(c) the PNG has the window's size, is not blank, and shows enough pixels of the heatmap palette;
    the same check on a copy with the heatmap <svg>s removed must fail (so it can fail);
(d) the calibration trade-off (the candidate's changelog selection): one table row and one plotted
    point per strength tried, in order, equal to the JSON; the row marked chosen is the tried
    point within the KL budget with the lowest maxvio (the selection rule, recomputed here); a
    copy with one plotted value changed must fail.
Needs Debian's python3-pil and chromium (tools/install-deps.sh). Exit 1 on any failure.
"""
import argparse
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

from PIL import Image, ImageStat

WIDTH, HEIGHT = 1280, 2000
# kLoadPalette in src/report/eval_format.hpp (viridis), repeated here on purpose.
PALETTE = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]
PALETTE_TOLERANCE = 10     # per RGB channel
MIN_PALETTE_PIXELS = 2000  # a heatmap of one layer and 8 experts already covers more
MIN_STDDEV = 8.0           # grey-level standard deviation; a blank page has 0


def fail(msg):
    print(f"check_report_html: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def resolve(root, key):
    """Value at a dotted key; at an object the longest run of segments naming a key wins."""
    seg, at, i = key.split("."), root, 0
    while i < len(seg):
        if isinstance(at, list):
            idx = int(seg[i])
            if idx >= len(at):
                raise KeyError(key)
            at, i = at[idx], i + 1
            continue
        if not isinstance(at, dict):
            raise KeyError(key)
        for n in range(len(seg) - i, 0, -1):
            name = ".".join(seg[i:i + n])
            if name in at:
                at, i = at[name], i + n
                break
        else:
            raise KeyError(key)
    return at


def check_values(report, page):
    tags = [(html.unescape(k), v)
            for k, v in re.findall(r'data-key="([^"]*)" data-value="([^"]*)"', page)]
    if not tags:
        fail("the HTML has no data-key/data-value tags")
    problems = []
    for key, text in tags:
        try:
            want = resolve(report, key)
        except (KeyError, ValueError):
            problems.append(f"{key}: not in the JSON")
            continue
        if want is None or text == "null":
            if not (want is None and text == "null"):
                problems.append(f"{key}: HTML {text}, JSON {want}")
            continue
        got = float(text)
        if not math.isclose(got, float(want), rel_tol=1e-12, abs_tol=0.0) and got != want:
            problems.append(f"{key}: HTML {text}, JSON {want!r}")
    shown = {k for k, _ in tags}
    for name in report.get("metrics", {}):
        if f"metrics.{name}" not in shown:
            problems.append(f"metric {name} is not printed in the HTML")
    if problems:
        fail(f"{len(problems)} value problem(s):\n  " + "\n  ".join(problems[:30]))
    print(f"check_report_html: {len(tags)} tagged values match the JSON")


# kSliceHeadline in src/report/eval_format.hpp, repeated here on purpose.
SLICE_HEADLINE = ["kl.mean", "kl.p99", "top1_agree", "ppl.base", "ppl.cand", "ppl.ln_ratio",
                  "routing.maxvio.base", "routing.maxvio.cand", "routing.dead.cand",
                  "routing.cold.cand"]


def slice_problems(report, page):
    """Empty list when the slice table shows exactly the JSON's slices and headline metrics."""
    slices = report.get("slices", {})
    tables = re.findall(r'<table class="slices">(.*?)</table>', page, flags=re.S)
    if not slices:
        return ["the report has no slices"] if not tables else ["slice table without slices"]
    if len(tables) != 1:
        return [f"{len(tables)} slice tables, expected 1"]
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", tables[0], flags=re.S)[1:]  # past the header
    names = [None] + sorted(slices)
    if len(rows) != len(names):
        return [f"slice table has {len(rows)} rows, expected {len(names)}"]
    problems = []
    for (attrs, row), name in zip(rows, names):
        prefix, part = ("", report) if name is None else (f"slices.{name}.", slices[name])
        attr = re.search(r'data-slice="([^"]*)"', attrs)
        if name is not None and (not attr or html.unescape(attr.group(1)) != name):
            problems.append(f"row for slice {name!r} is labelled {attr and attr.group(1)!r}")
        tags = [(html.unescape(k), v)
                for k, v in re.findall(r'data-key="([^"]*)" data-value="([^"]*)"', row)]
        want_keys = [prefix + "n_scored"] + [f"{prefix}metrics.{m}" for m in SLICE_HEADLINE]
        if [k for k, _ in tags] != want_keys:
            problems.append(f"row {name or 'all'}: keys {[k for k, _ in tags]} != {want_keys}")
            continue
        values = [part.get("n_scored")] + [part["metrics"].get(m) for m in SLICE_HEADLINE]
        for (key, text), want in zip(tags, values):
            if want is None:
                if text != "null":
                    problems.append(f"{key}: HTML {text}, JSON null")
            elif text == "null" or not math.isclose(float(text), float(want), rel_tol=1e-12):
                problems.append(f"{key}: HTML {text}, JSON {want!r}")
    return problems


def fail_on(label, problems):
    if problems:
        fail(f"{label}: {len(problems)} problem(s):\n  " + "\n  ".join(problems[:30]))


def tampered(page, data_key, value):
    """The page with the data-value of `data_key` replaced by `value` (None: no such key)."""
    key = f'data-key="{html.escape(data_key)}" data-value="'
    at = page.find(key)
    if at < 0:
        return None
    end = page.find('"', at + len(key))
    return page[:at + len(key)] + value + page[end:]


def check_slices(report, page):
    fail_on("slice table", slice_problems(report, page))
    name = sorted(report["slices"])[-1]
    changed = tampered(page, f"slices.{name}.metrics.kl.mean", "12345.5")
    if changed is None:
        fail(f"no slices.{name}.metrics.kl.mean in the HTML")
    if not slice_problems(report, changed):
        fail("the slice check passes with a slice value changed; it cannot catch wrong values")
    print(f"check_report_html: slice table matches the JSON ({len(report['slices'])} slices); "
          "a changed value is caught")


def tradeoff_problems(report, page):
    sel = report.get("calibration_selection")
    if not isinstance(sel, dict):
        return ["the report has no calibration_selection (calibrate --data ran with a KL budget)"]
    explored = sel["explored"]
    tables = re.findall(r'<table class="tradeoff">(.*?)</table>', page, flags=re.S)
    svgs = re.findall(r'<svg class="tradeoff".*?</svg>', page, flags=re.S)
    if len(tables) != 1 or len(svgs) != 1:
        return [f"{len(tables)} trade-off tables and {len(svgs)} plots, expected 1 and 1"]
    problems = []
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", tables[0], flags=re.S)[1:]
    circles = re.findall(r'<circle[^>]*data-key="([^"]*)" data-value="([^"]*)"', svgs[0])
    if len(rows) != len(explored) or len(circles) != len(explored):
        return [f"{len(rows)} rows and {len(circles)} points for {len(explored)} points tried"]
    for i, ((attrs, row), (ckey, cval), p) in enumerate(zip(rows, circles, explored)):
        got = [v for _, v in re.findall(r'data-key="([^"]*)" data-value="([^"]*)"', row)]
        want = [p["t"], p["kl_mean"], p["maxvio_mean"]]
        if len(got) != 3 or any(not math.isclose(float(g), w, rel_tol=1e-12)
                                for g, w in zip(got, want)):
            problems.append(f"row {i}: {got} != {want}")
        if ckey != f"calibration_selection.explored.{i}.maxvio_mean" or \
                not math.isclose(float(cval), p["maxvio_mean"], rel_tol=1e-12):
            problems.append(f"point {i}: {ckey}={cval}, JSON {p['maxvio_mean']}")
        if p["strategy"] not in html.unescape(row):
            problems.append(f"row {i} does not name strategy {p['strategy']}")
    feasible = [p for p in explored if p["kl_mean"] <= sel["kl_budget"]]
    best = min(feasible, key=lambda p: (p["maxvio_mean"], p["kl_mean"])) if feasible else None
    chosen = [i for i, (attrs, _) in enumerate(rows) if "chosen" in attrs]
    if best is None or best["maxvio_mean"] >= sel["maxvio_mean_inherited"]:
        if chosen:
            problems.append(f"rows {chosen} marked chosen, but no point lowers maxvio in budget")
    elif [explored[i] for i in chosen] != [best]:
        problems.append(f"chosen rows {chosen}, the selection rule picks {best}")
    return problems


def check_tradeoff(report, page):
    fail_on("trade-off", tradeoff_problems(report, page))
    changed = tampered(page, "calibration_selection.explored.0.maxvio_mean", "99.5")
    if changed is None or not tradeoff_problems(report, changed):
        fail("the trade-off check passes with a plotted value changed; it cannot catch wrong values")
    print(f"check_report_html: trade-off table and plot match the JSON "
          f"({len(report['calibration_selection']['explored'])} points); the chosen point "
          "follows the selection rule; a changed value is caught")


def screenshot(html_path, workdir):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        fail("chromium not found (tools/install-deps.sh installs it)")
    png = os.path.join(workdir, "shot.png")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={os.path.join(workdir, 'profile')}",
           f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}",
           "file://" + os.path.abspath(html_path)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within 120 s")
    if run.returncode != 0 or not os.path.exists(png):
        fail(f"chromium exit {run.returncode}, no screenshot:\n{run.stderr[-2000:]}")
    return png


def palette_pixels(img):
    rgb = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE]
    n = 0
    for count, px in img.getcolors(maxcolors=WIDTH * HEIGHT):
        if any(max(abs(px[i] - p[i]) for i in range(3)) <= PALETTE_TOLERANCE for p in rgb):
            n += count
    return n


def image_problems(png):
    """Empty list when the screenshot looks like a rendered report with heatmaps."""
    img = Image.open(png).convert("RGB")
    if img.size != (WIDTH, HEIGHT):
        return [f"screenshot is {img.size}, expected {(WIDTH, HEIGHT)}"]
    problems = []
    std = ImageStat.Stat(img.convert("L")).stddev[0]
    if std < MIN_STDDEV:
        problems.append(f"screenshot looks blank (grey std-dev {std:.2f} < {MIN_STDDEV})")
    n = palette_pixels(img)
    if n < MIN_PALETTE_PIXELS:
        problems.append(f"only {n} heatmap-palette pixels (< {MIN_PALETTE_PIXELS})")
    print(f"check_report_html: {png}: grey std-dev {std:.1f}, {n} heatmap-palette pixels")
    return problems


def check_in_browser(html_path, workdir):
    problems = image_problems(screenshot(html_path, workdir))
    if problems:
        fail("; ".join(problems))
    # The check must be able to fail: without the heatmap SVGs it has to complain.
    with open(html_path, encoding="utf-8") as f:
        page = f.read()
    stripped, n = re.subn(r'<svg class="heatmap[^"]*".*?</svg>', "", page, flags=re.S)
    if n == 0:
        fail("no <svg class=\"heatmap\"> in the HTML")
    bare_dir = os.path.join(workdir, "stripped")
    os.makedirs(bare_dir)
    bare = os.path.join(bare_dir, "stripped.html")
    with open(bare, "w", encoding="utf-8") as f:
        f.write(stripped)
    if not any("heatmap-palette" in p for p in image_problems(screenshot(bare, bare_dir))):
        fail("the palette check still passes with the heatmaps removed; it cannot catch them missing")
    print(f"check_report_html: removing the {n} heatmap SVG(s) makes the check fail, as it should")


def sliced_copy(data, workdir):
    """The records of `data` in two slices (alternately "alpha" and "beta <&>"), the last one in
    none."""
    records = [json.loads(line) for line in open(data) if line.strip()]
    path = os.path.join(workdir, "sliced.jsonl")
    with open(path, "w") as f:
        for i, r in enumerate(records):
            if i + 1 < len(records):
                r["slice"] = "alpha" if i % 2 == 0 else "beta <&>"
            f.write(json.dumps(r) + "\n")
    return path


def run_binary(binary, testdata, workdir):
    model = os.path.join(testdata, "tiny-olmoe")
    data = os.path.join(testdata, "calibration.jsonl")
    cal = os.path.join(workdir, "cal")
    out = {k: os.path.join(workdir, f"r.{k}") for k in ("json", "html", "md")}
    for cmd in ([binary, "calibrate", model, "-o", cal, "--data", data],
                [binary, "eval", model, cal, "--data", sliced_copy(data, workdir), "-o", out["json"],
                 "--html", out["html"], "--md", out["md"]]):
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            fail(f"{' '.join(cmd[1:2])} exited {run.returncode}:\n{run.stderr[-2000:]}")
    for path in out.values():
        if not os.path.getsize(path):
            fail(f"{path} is empty")
    return out["json"], out["html"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary")
    ap.add_argument("--testdata")
    ap.add_argument("--report")
    ap.add_argument("--html")
    args = ap.parse_args()
    if not ((args.binary and args.testdata) or (args.report and args.html)):
        ap.error("give --binary and --testdata, or --report and --html")
    with tempfile.TemporaryDirectory(prefix="moe-recal-html-") as workdir:
        if args.binary:
            report_path, html_path = run_binary(args.binary, args.testdata, workdir)
        else:
            report_path, html_path = args.report, args.html
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
        with open(html_path, encoding="utf-8") as f:
            page = f.read()
        check_values(report, page)
        check_slices(report, page)
        check_tradeoff(report, page)
        check_in_browser(html_path, workdir)
    print("check_report_html: OK")


if __name__ == "__main__":
    main()
