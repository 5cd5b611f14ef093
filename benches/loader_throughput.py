#!/usr/bin/env python3
"""Benchmark: the decoded MB/s of `prepcost loader` against the raw Parquet decode limit — a
bare arrow-rs reader loop over the same files and columns (benches/decode_limit.rs) — at one
thread and at all threads, tokenization off, in the same run.

    benches/run.sh            # builds both, then runs this

Both decode the same row groups of the same columns with the same batch size and measure the
same bytes (the Arrow buffers of the decoded batches, prepcost::loader::run::decoded_bytes), with
the footers read before the clock starts. The loader also fetches through the object store,
hands row groups to a worker pool and cuts batches for the training loop; the ratio is what
that costs. Runs alternate (raw, loader) so that both see the same machine load. Every figure
is the median of --repeat runs with the min-max range; Markdown goes to stdout.
"""
import argparse
import json
import os
import statistics
import subprocess


def run_json(args):
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="target/release/prepcost")
    parser.add_argument("--raw", required=True, help="the decode_limit bench binary")
    parser.add_argument("--data", required=True)
    parser.add_argument("--columns", default="text")
    parser.add_argument("--batch-size", default="1024")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    threads = sorted({1, os.cpu_count() or 1})
    rows = []
    for t in threads:
        raw_rates, loader_rates, ratios = [], [], []
        raw_cmd = [args.raw, args.data, "--columns", args.columns, "--threads", str(t),
                   "--batch-size", args.batch_size]
        loader_cmd = [args.binary, "loader", args.data, "--columns", args.columns,
                      "--workers", str(t), "--batch-size", args.batch_size,
                      "--tokenizer", "none", "--format", "json", "--quiet"]
        run_json(raw_cmd), run_json(loader_cmd)  # warm the page cache
        for _ in range(args.repeat):
            raw = run_json(raw_cmd)
            loader = run_json(loader_cmd)["loader"]
            assert raw["rows"] == loader["rows"], (raw, loader)
            assert raw["decoded_bytes"] == loader["decoded_bytes"], (raw, loader)
            raw_rates.append(raw["decoded_bytes_per_s"] / 1e6)
            loader_rates.append(loader["decoded_bytes_per_s"] / 1e6)
            ratios.append(loader_rates[-1] / raw_rates[-1])
        rows.append((t, raw_rates, loader_rates, ratios, raw["rows"], raw["decoded_bytes"]))

    def fmt(values, digits=0):
        return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"

    print(f"Loader vs raw decode: {args.data}, columns {args.columns}, batches of "
          f"{args.batch_size} rows, {rows[0][4]:,} rows, {rows[0][5] / 1e6:,.0f} MB decoded, "
          f"{args.repeat} runs\n")
    print("| threads | raw arrow-rs loop, MB/s | prepcost loader, MB/s | loader / raw |")
    print("| --- | --- | --- | --- |")
    for t, raw, loader, ratio, _, _ in rows:
        print(f"| {t} | {fmt(raw)} | {fmt(loader)} | **{fmt(ratio, 2)}** |")


if __name__ == "__main__":
    main()
