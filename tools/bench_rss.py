#!/usr/bin/python3
"""Runs a command and prints one JSON line: wall seconds, peak RSS as the kernel counts it
(ru_maxrss, what /usr/bin/time -v reports), and the peaks of its two parts sampled from
/proc/PID/status every 20 ms: RssAnon (heap: the weights the tool widened, activations) and
RssFile (pages of mapped files, e.g. a checkpoint read through mmap, which the kernel can drop
and re-read under memory pressure). The command's stdout goes to FILE (default /dev/null), its
stderr through.
  bench_rss.py [--stdout FILE] CMD [ARGS...]
"""
import json
import os
import subprocess
import sys
import time


def sample(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def main():
    argv, out = sys.argv[1:], os.devnull
    if argv[:1] == ["--stdout"]:
        out, argv = argv[1], argv[2:]
    t0 = time.perf_counter()
    with open(out, "w") as fh:
        p = subprocess.Popen(argv, stdout=fh)
    peak = {"RssAnon": 0, "RssFile": 0}
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        for k, v in sample(p.pid).items():
            if k in peak:
                peak[k] = max(peak[k], v)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    print(json.dumps({"rc": os.waitstatus_to_exitcode(status), "wall_s": wall,
                      "maxrss_kib": ru.ru_maxrss, "anon_peak_kib": peak["RssAnon"],
                      "file_peak_kib": peak["RssFile"]}))


if __name__ == "__main__":
    main()
