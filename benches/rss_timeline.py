#!/usr/bin/env python3
"""Resident memory of one command over its life, sampled from /proc.

Where `peak_rss.sh` gives one peak per copy, this shows how the peak is reached: a copy whose
memory is bounded climbs once and then stays level; one that keeps something per row group
climbs in proportion to the rows written. Samples VmRSS of the process (and its children
are not counted) every --interval seconds and prints, as JSON, the peak, the RSS at each tenth
of the run, and the slope of the second half in MB per 10 s. The peaks of its two parts are
given too: anonymous memory (the heap, stacks) and file-backed pages (the binary's code).

Usage: benches/rss_timeline.py [--interval S] -- COMMAND [ARGS ...]
"""
import argparse
import json
import subprocess
import sys
import time


def rss_kb(pid):
    """(VmRSS, RssAnon, RssFile) in KiB, or None once the process is gone."""
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    fields[key] = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    if len(fields) < 3:
        return None
    return fields["VmRSS"], fields["RssAnon"], fields["RssFile"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("give the command after --")
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples, anon, mapped = [], [], []
    while proc.poll() is None:
        kb = rss_kb(proc.pid)
        if kb is not None:
            samples.append((time.perf_counter() - start, kb[0]))
            anon.append(kb[1])
            mapped.append(kb[2])
        time.sleep(args.interval)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"the command failed with exit code {proc.returncode}")
    if not samples:
        sys.exit("the command ended before the first sample")
    tenths = []
    for k in range(1, 11):
        t = elapsed * k / 10
        before = [kb for s, kb in samples if s <= t]
        tenths.append(round(max(before) / 1024, 1) if before else None)
    half = [(s, kb) for s, kb in samples if s >= elapsed / 2]
    slope = None
    if len(half) >= 2:
        n = len(half)
        mean_t = sum(s for s, _ in half) / n
        mean_k = sum(kb for _, kb in half) / n
        var = sum((s - mean_t) ** 2 for s, _ in half)
        if var > 0:
            cov = sum((s - mean_t) * (kb - mean_k) for s, kb in half)
            slope = round(cov / var * 10 / 1024, 2)
    print(json.dumps({
        "seconds": round(elapsed, 2),
        "samples": len(samples),
        "peak_mb": round(max(kb for _, kb in samples) / 1024, 1),
        "peak_anon_mb": round(max(anon) / 1024, 1),
        "peak_file_mb": round(max(mapped) / 1024, 1),
        "peak_so_far_at_each_tenth_mb": tenths,
        "second_half_slope_mb_per_10s": slope,
    }))


if __name__ == "__main__":
    main()
