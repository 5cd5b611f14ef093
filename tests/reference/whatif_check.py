"""Checks the what-if sizes of an inspect report against pyarrow writing the same layouts.

    python tests/reference/whatif_check.py \
        --report tests/reference/reports/inspect_fortunes_intl_what_if.json \
        --source sample-data/fortunes_intl.parquet [--tolerance 0.03]

The report's what-if re-encodes a sample of row groups under each layout (codec and level,
dictionary on or off, rows per row group) and scales it to the dataset. When the sample is the
whole file (as in the reference report), pyarrow writing every column of it under the same
layout is an independent measure of each size: arrow-rs and parquet-cpp differ in what they
write besides the data (statistics, page indexes, metadata), so the sizes must agree within a
few per cent, not to the byte. Prints each layout; exits 1 when one is out of tolerance.
Needs pyarrow.
"""
import argparse, io, json, re, sys

import pyarrow.parquet as pq

# prepcost's codec names → pyarrow's.
CODECS = {"none": "NONE", "snappy": "SNAPPY", "lz4_raw": "LZ4", "gzip": "GZIP", "brotli": "BROTLI",
          "zstd": "ZSTD"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--report", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--tolerance", type=float, default=0.03)
    args = ap.parse_args()
    report = json.load(open(args.report))
    sample = report["recommendation"]["sample"]
    if sample["rows"] != report["totals"]["rows"]:
        sys.exit("the report's what-if sampled part of the dataset: its sizes are projections")
    table = pq.read_table(args.source)
    failed = False
    for layout in report["what_if"]:
        name, level = re.fullmatch(r"([a-z0-9_]+)(?:\((\d+)\))?", layout["codec"]).groups()
        out = io.BytesIO()
        pq.write_table(table, out, compression=CODECS[name],
                       compression_level=int(level) if level else None,
                       use_dictionary=layout["dictionary"], row_group_size=layout["row_group_rows"])
        theirs, ours = out.tell(), layout["bytes"]
        off = ours / theirs - 1
        ok = abs(off) <= args.tolerance
        failed |= not ok
        print(f"{layout['name']}: prepcost {ours:,} B, pyarrow {theirs:,} B ({off:+.1%}) "
              f"{'ok' if ok else 'OUT OF TOLERANCE'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
