#!/usr/bin/env python3
"""Benchmark: the default pipeline (clean -> normalise -> dedup_exact) on a 1-million-row
corpus, per-stage rows/s and MB/s, and the same work side by side with DuckDB.

    benches/run.sh            # sets up the venv and the corpus, then runs this

Every figure is the median of --repeat runs, with the min-max range, all on the same machine
in one session. Results go to stdout as a Markdown fragment for benches/README.md.
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def median_range(values):
    return statistics.median(values), min(values), max(values)


def fmt(values, scale=1.0, digits=0):
    m, lo, hi = median_range([v * scale for v in values])
    return f"{m:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def run_prepcost(binary, corpus, pipeline=None):
    args = [binary, "profile", str(corpus), "--format", "json", "--quiet"]
    if pipeline:
        args += ["--pipeline", str(pipeline)]
    started = time.perf_counter()
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    return json.loads(out), wall


def run_duckdb(corpus):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {len(__import__('os').sched_getaffinity(0))}")
    con.execute("SET enable_progress_bar = false")
    # The nearest DuckDB equivalent of the NFC variant of prepcost's pipeline: strip control
    # characters, drop short rows, NFC, collapse whitespace other than newlines, trim, then keep
    # the first row of each text. DuckDB has no NFKC; prepcost runs with form = "NFC" for this.
    ws = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
    control = r"[\x{00}-\x{08}\x{0B}-\x{1F}\x{7F}-\x{9F}]"
    runs = r"[\x{09}\x{0B}-\x{0D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+"
    sql = f"""
    WITH src AS (
        SELECT *, row_number() OVER () AS pos FROM read_parquet('{corpus}/*.parquet')
    ), cleaned AS (
        SELECT * REPLACE (regexp_replace(text, '{control}', '', 'g') AS text)
        FROM src WHERE text IS NOT NULL
    ), kept AS (
        SELECT * FROM cleaned WHERE length(trim(text, '{ws}')) >= 1
    ), normalised AS (
        SELECT * REPLACE (trim(regexp_replace(nfc_normalize(text), '{runs}', ' ', 'g'), '{ws}') AS text)
        FROM kept
    )
    SELECT count(*) FROM (SELECT min(pos) FROM normalised GROUP BY text)
    """
    started = time.perf_counter()
    rows = con.execute(sql).fetchone()[0]
    return rows, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    truth = json.loads(Path(str(corpus) + ".truth.json").read_text())

    with tempfile.TemporaryDirectory() as tmp:
        nfc = Path(tmp) / "nfc.toml"
        nfc.write_text(
            '[[stages]]\nquery = "clean"\n[[stages]]\nquery = "normalise"\n'
            'params = { form = "NFC" }\n[[stages]]\nquery = "dedup_exact"\n'
        )
        reports, walls, nfc_walls, duck_walls = [], [], [], []
        nfc_rows = duck_rows = None
        for _ in range(args.repeat):
            # Interleave the tools so that machine noise hits them alike.
            report, wall = run_prepcost(args.binary, corpus)
            reports.append(report)
            walls.append(wall)
            nfc_report, wall = run_prepcost(args.binary, corpus, nfc)
            nfc_walls.append(wall)
            nfc_rows = nfc_report["totals"]["rows_out"]
            duck_rows, wall = run_duckdb(corpus)
            duck_walls.append(wall)

    first = reports[0]
    rows_out = first["totals"]["rows_out"]
    print(f"corpus: {corpus.name}, {first['source']['rows']:,} rows, "
          f"{first['source']['text_bytes'] / 1e6:,.1f} MB of text, {first['storage']['files']} files, "
          f"{first['storage']['file_bytes'] / 2**20:,.1f} MiB on disk; {first['run']['threads']} threads; "
          f"{args.repeat} runs, median (min–max)\n")
    print(f"rows after dedup_exact: {rows_out:,} (truth file: {truth['expected']['rows_after_exact_dedup']:,})\n")
    print("| step | rows in | rows/s | text MB/s | wall s | CPU s | peak pool memory |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    scan_rows = [r["scan"]["rows"] / r["scan"]["wall_seconds"] for r in reports]
    scan_mb = [r["source"]["text_bytes"] / 1e6 / r["scan"]["wall_seconds"] for r in reports]
    print(f"| scan (read + decode) | {first['scan']['rows']:,} | {fmt(scan_rows)} | {fmt(scan_mb, digits=1)} | "
          f"{fmt([r['scan']['wall_seconds'] for r in reports], digits=2)} | "
          f"{fmt([r['scan']['cpu_seconds'] for r in reports], digits=2)} | "
          f"{statistics.median([r['scan']['peak_memory_bytes'] for r in reports]) / 2**20:,.0f} MiB |")
    for i, stage in enumerate(first["stages"]):
        runs = [r["stages"][i] for r in reports]
        print(f"| {stage['name']} | {stage['rows_in']:,} | {fmt([s['rows_per_second'] for s in runs])} | "
              f"{fmt([s['text_mb_per_second'] for s in runs], digits=1)} | "
              f"{fmt([s['wall_seconds'] for s in runs], digits=2)} | "
              f"{fmt([s['cpu_seconds'] for s in runs], digits=2)} | "
              f"{statistics.median([s['peak_memory_bytes'] for s in runs]) / 2**20:,.0f} MiB |")
    total = [r["totals"]["wall_seconds"] for r in reports]
    print(f"| **whole pipeline** | {first['source']['rows']:,} | "
          f"{fmt([first['source']['rows'] / t for t in total])} | "
          f"{fmt([first['source']['text_bytes'] / 1e6 / t for t in total], digits=1)} | "
          f"{fmt(total, digits=2)} | {fmt([r['totals']['cpu_seconds'] for r in reports], digits=2)} | "
          f"{statistics.median([r['totals']['peak_memory_bytes'] for r in reports]) / 2**20:,.0f} MiB |\n")
    print("Side by side, NFC variant (whole process, wall seconds):\n")
    print("| tool | rows out | wall s | ratio (DuckDB / prepcost) |")
    print("| --- | ---: | ---: | ---: |")
    ratios = [d / p for d, p in zip(duck_walls, nfc_walls)]
    print(f"| prepcost profile (form = NFC) | {nfc_rows:,} | {fmt(nfc_walls, digits=2)} | |")
    print(f"| DuckDB {__import__('duckdb').__version__} (same SQL shape) | {duck_rows:,} | {fmt(duck_walls, digits=2)} | {fmt(ratios, digits=2)} |")
    print(f"\nprepcost process wall (default NFKC pipeline): {fmt(walls, digits=2)} s")


if __name__ == "__main__":
    sys.exit(main())
