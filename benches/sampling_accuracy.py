"""How far a sampled `prepcost profile` lands from the full run, and how often its 95%
intervals hold the truth.

    python benches/sampling_accuracy.py --binary target/release/prepcost --corpus CORPUS \
        [--fractions 0.01 0.1] [--modes row-group content] [--seeds 20] [--full-runs 3]

Runs the full profile (with `--near-dedup`) `--full-runs` times — its figures are the truth,
its wall time the median — then every mode × fraction × seed as a sample, and prints one row
per mode, fraction and figure: the median and worst relative error of the projected value,
and the share of seeds whose interval held the truth. Rows, tokens and duplicates are exact in
the full run (the same every run); wall time varies from run to run on a shared machine, so
its truth is the median of the full runs and its coverage is against their range (so is
memory's, which varies a little with the order in which threads finish).
"""

import argparse
import json
import statistics
import subprocess
import sys


def profile(binary, corpus, extra):
    cmd = [binary, "profile", corpus, "--near-dedup", "--format", "json", "--quiet", *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def figures(report):
    """Each compared figure of a full report: name -> value."""
    out = {}
    for stage in report["stages"]:
        out[f"rows out: {stage['name']}"] = stage["rows_out"]
        if stage.get("tokens_out"):
            out[f"tokens out: {stage['name']}"] = stage["tokens_out"]["total"]
        out[f"peak memory MB: {stage['name']}"] = stage["peak_memory_bytes"] / 1e6
        out[f"wall s: {stage['name']}"] = stage["wall_seconds"]
    by_origin = {s["origin"]: s for s in report["stages"]}
    out["exact duplicates"] = by_origin["queries/dedup_exact.sql"]["rows_dropped"]
    out["near duplicates"] = sum(s["rows_dropped"] for s in report["stages"] if "near_dedup" in s)
    out["whole-run wall s"] = report["totals"]["run_wall_seconds"]
    out["whole-run cpu s"] = report["totals"]["run_cpu_seconds"]
    return out


def projected(report):
    """The same figures projected by a sampled report: name -> {value, low, high}."""
    out = {}
    for stage in report["stages"]:
        p = stage["projected"]
        out[f"rows out: {stage['name']}"] = p["rows_out"]
        if p.get("tokens_out"):
            out[f"tokens out: {stage['name']}"] = p["tokens_out"]
        out[f"peak memory MB: {stage['name']}"] = {k: v / 1e6 for k, v in p["peak_memory_bytes"].items()}
        out[f"wall s: {stage['name']}"] = p["wall_seconds"]
    top = report["projected"]
    out["exact duplicates"] = top["exact_duplicates"]
    out["near duplicates"] = top["near_duplicates"]
    out["whole-run wall s"] = top["totals"]["run_wall_seconds"]
    out["whole-run cpu s"] = top["totals"]["run_cpu_seconds"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--fractions", nargs="+", default=["0.01", "0.1"])
    ap.add_argument("--modes", nargs="+", default=["row-group", "content"])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--full-runs", type=int, default=3)
    ap.add_argument("--save", help="write every figure to this JSON file")
    args = ap.parse_args()

    fulls = [figures(profile(args.binary, args.corpus, [])) for _ in range(args.full_runs)]
    truth = {k: statistics.median(f[k] for f in fulls) for k in fulls[0]}
    spread = {k: (min(f[k] for f in fulls), max(f[k] for f in fulls)) for k in fulls[0]}
    print(f"corpus: {args.corpus}; full run (median of {args.full_runs}):", file=sys.stderr)
    for k, v in truth.items():
        print(f"  {k}: {v:,.2f}", file=sys.stderr)

    results = {}
    for mode in args.modes:
        for fraction in args.fractions:
            runs = []
            for seed in range(args.seeds):
                extra = ["--sample", fraction, "--sample-by", mode, "--seed", str(seed)]
                report = profile(args.binary, args.corpus, extra)
                runs.append({"sample": report["sample"], "projected": projected(report),
                             "sample_wall": report["totals"]["run_wall_seconds"]})
            results[f"{mode} {fraction}"] = runs

    print("\n| sample | figure | truth | median error | worst error | interval held |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, runs in results.items():
        mode = runs[0]["sample"]["mode"]
        label = name if name.startswith(mode) else f"{name} (ran as {mode})"
        for k in truth:
            values = [r["projected"][k] for r in runs if r["projected"].get(k)]
            if not values or not truth[k]:
                continue
            errors = [(v["value"] - truth[k]) / truth[k] for v in values]
            low, high = spread[k]
            held = sum(1 for v in values if v["low"] <= high and low <= v["high"])
            worst = max(errors, key=abs)
            shown = f"{truth[k]:,.2f}" if truth[k] < 100 else f"{truth[k]:,.0f}"
            print(f"| {label} | {k} | {shown} | {statistics.median(errors):+.1%} "
                  f"| {worst:+.1%} | {held}/{len(values)} |")
        walls = [r["sample_wall"] for r in runs]
        print(f"| {label} | the sample's own wall s | | {statistics.median(walls):.2f} | "
              f"{min(walls):.2f}–{max(walls):.2f} | |")
    if args.save:
        with open(args.save, "w") as f:
            json.dump({"truth": truth, "spread": spread, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
