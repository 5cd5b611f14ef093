"""Independent reference for prepcost's built-in queries on the shared text datasets.

Re-implements queries/clean.sql, queries/normalise.sql and queries/dedup_exact.sql in Python,
with the `unicodedata2` package (CPython's unicodedata module built for the current Unicode
version; not the Rust crates prepcost uses), and writes the expected row and
byte counts after every stage to text_datasets.json (the shared datasets) and
sample_data.json (this repository's sample-data/), which the integration tests compare
against `prepcost profile --format json`.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyarrow unicodedata2
    /tmp/venv/bin/python tests/reference/expected_counts.py ../shared/datasets/text

Semantics (from the issue, and the README of prepcost):
  clean      drop NULL text; remove every char of general category Cc except \\n and \\t;
             drop rows whose text, trimmed of Unicode White_Space, has < min_chars (1) chars.
  normalise  NFKC (or NFC); every run of White_Space other than \\n -> one space; strip all
             White_Space (newlines included) at both ends.
  dedup      keep the first row (source order) of each group of identical text.
"""
import json
import re
import sys
from pathlib import Path

import pyarrow.parquet as pq

# prepcost's unicode-normalization crate implements Unicode 18.0; Python 3.11's own
# unicodedata is 14.0 and does not know the compatibility decompositions added since
# (e.g. U+1E030 modifier letters, U+1CCF0 outlined digits, both in rust_code).
import unicodedata2 as unicodedata

# Unicode White_Space, exactly what Rust's char::is_whitespace accepts.
WS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
WS_NOT_NL = WS.replace("\n", "")
RUNS = re.compile("[" + re.escape(WS_NOT_NL) + "]+")


def strip_control(t):
    return "".join(c for c in t if c in "\n\t" or unicodedata.category(c) != "Cc")


def trim(t):
    return t.strip(WS)


def normalise(t, form):
    return trim(RUNS.sub(" ", unicodedata.normalize(form, t)))


def read_texts(path, column):
    files = sorted(p for p in Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    texts = []
    for f in files:
        texts.extend(pq.ParquetFile(f).read(columns=[column]).column(column).to_pylist())
    return texts


def storage(path):
    """Footer figures as pyarrow reads them: files, rows, row groups, per-column sizes."""
    files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
    out = {"files": len(files), "rows": 0, "row_groups": 0, "file_bytes": 0, "columns": {}}
    for f in files:
        meta = pq.ParquetFile(f).metadata
        out["rows"] += meta.num_rows
        out["row_groups"] += meta.num_row_groups
        out["file_bytes"] += f.stat().st_size
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            for j in range(rg.num_columns):
                c = rg.column(j)
                col = out["columns"].setdefault(
                    c.path_in_schema, {"compressed_bytes": 0, "uncompressed_bytes": 0}
                )
                col["compressed_bytes"] += c.total_compressed_size
                col["uncompressed_bytes"] += c.total_uncompressed_size
    return out


def utf8(texts):
    return sum(len(t.encode("utf-8")) for t in texts if t is not None)


def expected(path, column):
    texts = read_texts(path, column)
    out = {"rows": len(texts), "text_nulls": sum(t is None for t in texts), "text_bytes": utf8(texts)}
    out["storage"] = storage(path)
    cleaned = [strip_control(t) for t in texts if t is not None]
    cleaned = [t for t in cleaned if len(trim(t)) >= 1]
    out["clean"] = {"rows": len(cleaned), "text_bytes": utf8(cleaned)}
    for form in ("NFKC", "NFC"):
        normalised = [normalise(t, form) for t in cleaned]
        seen, kept = set(), []
        for t in normalised:
            if t not in seen:
                seen.add(t)
                kept.append(t)
        out[form.lower()] = {
            "normalise": {"rows": len(normalised), "text_bytes": utf8(normalised)},
            "dedup_exact": {"rows": len(kept), "text_bytes": utf8(kept)},
        }
    return out


def write(datasets, root, out_name):
    result = {
        "generated_by": "tests/reference/expected_counts.py",
        "unicode_version": unicodedata.unidata_version,
        "datasets": {},
    }
    for name, (rel, column) in datasets.items():
        entry = {"path": rel, "text_column": column}
        entry.update(expected(root / rel, column))
        result["datasets"][name] = entry
        print(name, entry["rows"], entry["nfkc"]["dedup_exact"]["rows"], file=sys.stderr)
    Path(__file__).with_name(out_name).write_text(json.dumps(result, indent=1) + "\n")


def main():
    shared = Path(sys.argv[1])
    write(
        {
            "en_prose": ("en_prose.parquet", "text"),
            "fortunes_zh": ("fortunes_zh.parquet", "text"),
            "fortunes_intl": ("fortunes_intl.parquet", "text"),
            "rust_code": ("rust_code", "content"),
            "llm_mix": ("llm_mix", "text"),
        },
        shared,
        "text_datasets.json",
    )
    write(
        {
            "en_prose": ("en_prose", "text"),
            "fortunes_zh": ("fortunes_zh.parquet", "text"),
            "fortunes_intl": ("fortunes_intl.parquet", "text"),
        },
        Path(__file__).parent.parent.parent / "sample-data",
        "sample_data.json",
    )


if __name__ == "__main__":
    main()
