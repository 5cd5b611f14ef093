"""Independent reference for `prepcost inspect`: what pyarrow (Arrow C++'s Parquet reader, not
the Rust parquet crate prepcost uses) reads from the footer of every file in the
parquet-testing corpus — rows, row groups, and per leaf column its physical type and
compressed and uncompressed bytes summed over the row groups. Files pyarrow cannot open are
recorded with its error; encrypted files (named *.encrypted) as such. The integration test compares `prepcost inspect --format json`.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyarrow
    /tmp/venv/bin/python tests/reference/parquet_footers.py ../shared/datasets/parquet-testing/data
"""
import json
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq


def footer(path: Path) -> dict:
    if path.name.endswith(".encrypted"):
        # Encrypted files need their keys; pyarrow aborts the process (not an exception) on
        # the plaintext-footer variant, so none is opened. prepcost must refuse them clearly.
        return {"encrypted": True}
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as e:  # noqa: BLE001 - any failure is a fact worth recording
        return {"error": f"{type(e).__name__}: {e}"}
    columns: dict[str, dict] = {}
    for g in range(meta.num_row_groups):
        row_group = meta.row_group(g)
        for c in range(row_group.num_columns):
            chunk = row_group.column(c)
            entry = columns.setdefault(
                chunk.path_in_schema,
                {"physical_type": chunk.physical_type, "compressed_bytes": 0, "uncompressed_bytes": 0},
            )
            entry["compressed_bytes"] += chunk.total_compressed_size
            entry["uncompressed_bytes"] += chunk.total_uncompressed_size
    return {"rows": meta.num_rows, "row_groups": meta.num_row_groups, "columns": columns}


def main() -> None:
    root = Path(sys.argv[1])
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".parquet" in p.name)
    facts = {str(p.relative_to(root)): footer(p) for p in files}
    out = Path(__file__).with_name("parquet_testing_footers.json")
    out.write_text(
        json.dumps({"pyarrow_version": pyarrow.__version__, "files": facts}, indent=1, sort_keys=True)
        + "\n"
    )
    errors = sum("error" in f for f in facts.values())
    print(f"{len(facts)} files, {errors} unreadable by pyarrow -> {out}")


if __name__ == "__main__":
    main()
