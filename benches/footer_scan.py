#!/usr/bin/env python3
"""Benchmark: footer-scan rate of `prepcost inspect` over 1,000 small local Parquet files, side
by side with DuckDB's parquet_metadata() over the same files in the same run.

    benches/run.sh            # sets up the venv, then runs this

Both list the files, read every footer and sum per-column sizes. DuckDB's time is the query in
an open connection; prepcost's is given twice: the scan as the report's `run.wall_seconds`
records it (listing, footers and analysis, in process, as DuckDB's is), and the whole process
as a user waits for it (start, scan, rendering the JSON report, and piping it out). The page
cache is warm for both (one unmeasured run each first). Every figure is the median of
--repeat runs with the min-max range. Results go to stdout as Markdown for benches/README.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def make_files(root: Path, files: int) -> None:
    """`files` Parquet files of 2,000 rows in two row groups, six columns, zstd."""
    for f in range(files):
        n = 2000
        table = pa.table(
            {
                "id": pa.array(range(f * n, (f + 1) * n), pa.int64()),
                "text": pa.array([f"document {f}-{i} " * (1 + i % 7) for i in range(n)]),
                "source": pa.array(["web", "books", "code", "wiki"] * (n // 4)),
                "score": pa.array([i / n for i in range(n)], pa.float64()),
                "lang": pa.array(["en"] * n),
                "tokens": pa.array([i % 512 for i in range(n)], pa.int32()),
            }
        )
        pq.write_table(table, root / f"part-{f:05}.parquet", row_group_size=n // 2, compression="zstd")


def time_prepcost(binary: str, root: Path) -> tuple[float, dict, int]:
    """The whole process's wall time, the report, and its size in bytes."""
    started = time.perf_counter()
    out = subprocess.run(
        [binary, "inspect", str(root), "--format", "json", "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(out), len(out.encode())


def time_duckdb(con, root: Path) -> tuple[float, tuple]:
    started = time.perf_counter()
    row = con.execute(
        f"""SELECT count(DISTINCT file_name), sum(total_compressed_size),
                   sum(total_uncompressed_size)
            FROM parquet_metadata('{root}/*.parquet')"""
    ).fetchone()
    return time.perf_counter() - started, row


def fmt(values, digits=0):
    m = statistics.median(values)
    return f"{m:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def main() -> None:
    import duckdb

    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    threads = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_files(root, args.files)
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        # Warm the page cache, and check both see the same bytes.
        _, report, report_bytes = time_prepcost(args.binary, root)
        _, (files, compressed, uncompressed) = time_duckdb(con, root)
        assert files == report["totals"]["files"] == args.files
        assert compressed == report["totals"]["compressed_bytes"], (compressed, report["totals"])
        assert uncompressed == report["totals"]["uncompressed_bytes"]
        scan, process, theirs = [], [], []
        for _ in range(args.repeat):
            elapsed, run, _ = time_prepcost(args.binary, root)
            process.append(args.files / elapsed)
            scan.append(args.files / run["run"]["wall_seconds"])
            theirs.append(args.files / time_duckdb(con, root)[0])
        scan_ratios = [a / b for a, b in zip(scan, theirs)]
        process_ratios = [a / b for a, b in zip(process, theirs)]
        data_bytes = report["totals"]["file_bytes"]
        read = report["requests"]["bytes_in"]
    print(f"### Footer scan: {args.files:,} local files, {threads} threads, {args.repeat} runs\n")
    print("| reader | files/s, median (min–max) | ratio to DuckDB (per run) |")
    print("| --- | --- | --- |")
    print(
        f"| prepcost inspect: scan (list, footers, analysis; in process) | {fmt(scan)} | "
        f"**{fmt(scan_ratios, 2)}×** |"
    )
    print(
        f"| prepcost inspect: whole process (start, scan, {report_bytes:,}-byte"
        f" JSON report through a pipe) | {fmt(process)} | {fmt(process_ratios, 2)}× |"
    )
    print(f"| DuckDB {duckdb.__version__} parquet_metadata() (query only) | {fmt(theirs)} | 1 |")
    print(
        f"prepcost read {read:,} of {data_bytes:,} bytes ({100 * read / data_bytes:.1f}%) in "
        f"{report['requests']['get']:,} GETs and {report['requests']['list']} LIST."
    )


if __name__ == "__main__":
    main()
