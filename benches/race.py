#!/usr/bin/env python3
"""The race: prepcost, DuckDB and Polars on the same corpus, whole processes, alternating run
by run; wall time and peak RSS of each, row counts checked equal.

    benches/run.sh            # sets up the venv and the corpus, then runs this
    python benches/race.py --binary target/release/prepcost --corpus CORPUS [--repeat 3] [--save F]
    python benches/race.py --scale SMALL.json LARGE.json   # how each figure grew between two saves

Runs, each its own process:
- prepcost as shipped: `profile CORPUS` (clean, NFKC normalise, dedup_exact, cl100k_base tokens);
- prepcost pipeline only: the NFC variant of the pipeline, `--tokenizer none`;
- prepcost scan only: one `SELECT * FROM input` stage, `--tokenizer none`;
- DuckDB and Polars (lazy): the NFC variant's work — control characters stripped with a regex,
  rows trimmed to nothing dropped, NFC, whitespace runs other than newlines collapsed, trimmed,
  the first row of each text kept — counting the rows left;
- the raw arrow-rs decode loop over the text column (benches/decode_limit.rs), when --raw names it.
Prints a Markdown table: median (min–max) of wall seconds and peak RSS, and each run's wall
time over DuckDB's; then prepcost's own per-step figures (wall seconds and peak pool memory of the
scan, each stage and token counting, from its JSON report). `--save` keeps every figure for
`--scale`, which prints, for two corpora, the ratio of the larger's medians to the smaller's.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
CONTROL = r"[\x{00}-\x{08}\x{0B}-\x{1F}\x{7F}-\x{9F}]"
RUNS = r"[\x{09}\x{0B}-\x{0D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+"

DUCKDB = """
import duckdb, os, sys
corpus, ws, control, runs = sys.argv[1:5]
con = duckdb.connect()
con.execute(f"SET threads = {len(os.sched_getaffinity(0))}")
con.execute("SET enable_progress_bar = false")
sql = f'''
WITH src AS (SELECT *, row_number() OVER () AS pos FROM read_parquet('{corpus}/*.parquet')),
cleaned AS (SELECT * REPLACE (regexp_replace(text, '{control}', '', 'g') AS text) FROM src WHERE text IS NOT NULL),
kept AS (SELECT * FROM cleaned WHERE length(trim(text, '{ws}')) >= 1),
normalised AS (SELECT * REPLACE (trim(regexp_replace(nfc_normalize(text), '{runs}', ' ', 'g'), '{ws}') AS text) FROM kept)
SELECT count(*) FROM (SELECT min(pos) FROM normalised GROUP BY text)'''
print(con.execute(sql).fetchone()[0])
"""

POLARS = """
import polars as pl, sys
corpus, ws, control, runs = sys.argv[1:5]
text = pl.col("text")
rows = (
    pl.scan_parquet(f"{corpus}/*.parquet")
    .with_row_index("pos")
    .filter(text.is_not_null())
    .with_columns(text.str.replace_all(control, ""))
    .filter(text.str.strip_chars(ws).str.len_chars() >= 1)
    .with_columns(text.str.normalize("NFC").str.replace_all(runs, " ").str.strip_chars(ws))
    .group_by("text")
    .agg(pl.col("pos").min())
    .select(pl.len())
    .collect()
    .item()
)
print(rows)
"""


def measure(args):
    """Runs `args` under /usr/bin/time; its stdout, wall seconds and peak RSS in bytes."""
    with tempfile.NamedTemporaryFile("r") as timing:
        started = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", timing.name, *args],
                             capture_output=True, text=True)
        wall = time.perf_counter() - started
        if out.returncode != 0:
            sys.exit(f"{args[0]} failed: {out.stderr}")
        return out.stdout, wall, int(timing.read().split()[-1]) * 1024


def fmt(values, digits=2):
    m, lo, hi = statistics.median(values), min(values), max(values)
    return f"{m:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary")
    parser.add_argument("--corpus")
    parser.add_argument("--raw", help="the decode_limit bench executable")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", help="write every figure to this JSON file")
    parser.add_argument("--scale", nargs=2, metavar=("SMALL", "LARGE"))
    args = parser.parse_args()
    if args.scale:
        return scale(*args.scale)
    if not (args.binary and args.corpus):
        parser.error("--binary and --corpus are required")
    corpus = str(Path(args.corpus).resolve())
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        nfc = Path(tmp) / "nfc.toml"
        nfc.write_text('[[stages]]\nquery = "clean"\n[[stages]]\nquery = "normalise"\n'
                       'params = { form = "NFC" }\n[[stages]]\nquery = "dedup_exact"\n')
        (Path(tmp) / "all.sql").write_text("SELECT * FROM input")
        scan = Path(tmp) / "scan.toml"
        scan.write_text('[[stages]]\nsql = "all.sql"\n')
        profile = [args.binary, "profile", corpus, "--format", "json", "--quiet"]
        tools = {
            "prepcost as shipped (NFKC + cl100k_base tokens)": profile,
            "prepcost pipeline only (NFC, --tokenizer none)":
                profile + ["--pipeline", str(nfc), "--tokenizer", "none"],
            "prepcost scan only (--tokenizer none)":
                profile + ["--pipeline", str(scan), "--tokenizer", "none"],
            f"DuckDB {version('duckdb')} (same work as NFC)":
                [python, "-c", DUCKDB, corpus, WS, CONTROL, RUNS],
            f"Polars {version('polars')} lazy (same work as NFC)":
                [python, "-c", POLARS, corpus, WS, CONTROL, RUNS],
        }
        if args.raw:
            tools["raw arrow-rs decode of the text column, 2 threads"] = [
                args.raw, corpus, "--columns", "text", "--threads", "2"]
        walls = {name: [] for name in tools}
        rss = {name: [] for name in tools}
        steps = {name: {} for name in tools if name.startswith("prepcost")}
        rows = {}
        for _ in range(args.repeat):
            for name, command in tools.items():
                out, wall, peak = measure(command)
                walls[name].append(wall)
                rss[name].append(peak)
                rows[name] = row_count(name, out)
                if name in steps:
                    for step, figures in step_figures(json.loads(out)).items():
                        for key, value in figures.items():
                            steps[name].setdefault(step, {}).setdefault(key, []).append(value)
    duck = next(name for name in tools if name.startswith("DuckDB"))
    print(f"corpus: {Path(corpus).name}; {args.repeat} runs each, alternating; median (min–max)\n")
    print("| run | rows out | wall s | × DuckDB's wall | peak RSS MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in tools:
        ratio = [w / d for w, d in zip(walls[name], walls[duck])]
        print(f"| {name} | {rows[name]} | {fmt(walls[name])} | {fmt(ratio)} | "
              f"{fmt([r / 1e6 for r in rss[name]], digits=0)} |")
    print("\nprepcost's own figures per step (from its report):\n")
    print("| run | step | wall s | peak pool MB |")
    print("| --- | --- | ---: | ---: |")
    for name, by_step in steps.items():
        for step, figures in by_step.items():
            peak = fmt([b / 1e6 for b in figures["peak"]], digits=0) if "peak" in figures else ""
            print(f"| {name} | {step} | {fmt(figures['wall'])} | {peak} |")
    counted = {r for n, r in rows.items() if r is not None and "scan only" not in n
               and "raw" not in n}
    if len(counted) != 1:
        sys.exit(f"row counts differ: {rows}")
    if args.save:
        Path(args.save).write_text(json.dumps(
            {"corpus": Path(corpus).name, "rows": rows, "wall": walls, "rss": rss,
             "steps": steps}, indent=1))


def step_figures(report):
    """Wall seconds and peak pool bytes of the scan and each stage; wall of token counting."""
    figures = {"scan": {"wall": report["scan"]["wall_seconds"],
                        "peak": report["scan"]["peak_memory_bytes"]}}
    for stage in report["stages"]:
        figures[stage["name"]] = {"wall": stage["wall_seconds"],
                                  "peak": stage["peak_memory_bytes"]}
    if report.get("tokens"):
        figures["counting tokens"] = {"wall": report["tokens"]["wall_seconds"]}
    return figures


def scale(small_path, large_path):
    """Prints how each median grew from the smaller corpus to the larger."""
    small, large = (json.loads(Path(p).read_text()) for p in (small_path, large_path))
    med = statistics.median
    print(f"{small['corpus']} → {large['corpus']}: ratio of medians (larger / smaller)\n")
    print("| run | step | wall s | × | peak MB | × |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in small["wall"]:
        if name not in large["wall"]:
            continue
        w0, w1 = med(small["wall"][name]), med(large["wall"][name])
        r0, r1 = med(small["rss"][name]), med(large["rss"][name])
        print(f"| {name} | whole process (peak RSS) | {w0:.2f} → {w1:.2f} | {w1 / w0:.2f} | "
              f"{r0 / 1e6:,.0f} → {r1 / 1e6:,.0f} | {r1 / r0:.2f} |")
        for step, figures in small["steps"].get(name, {}).items():
            other = large["steps"][name][step]
            w0, w1 = med(figures["wall"]), med(other["wall"])
            cells = f"| {name} | {step} | {w0:.2f} → {w1:.2f} | {w1 / w0:.2f} |"
            if "peak" in figures:
                p0, p1 = med(figures["peak"]), med(other["peak"])
                cells += f" {p0 / 1e6:,.0f} → {p1 / 1e6:,.0f} | {p1 / p0:.2f} |"
            else:
                cells += " | |"
            print(cells)


def row_count(name, out):
    if name.startswith("prepcost"):
        return json.loads(out)["totals"]["rows_out"]
    if name.startswith("raw"):
        return None
    return int(out.strip())


def version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
