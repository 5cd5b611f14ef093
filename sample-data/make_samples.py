"""Builds sample-data/ from the shared text datasets (see sample-data/README.md).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyarrow
    /tmp/venv/bin/python sample-data/make_samples.py ../shared/datasets/text

Rows are taken as they are, in order; nothing is edited. Deterministic.
"""
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

root = Path(sys.argv[1])
out = Path(__file__).parent

# en_prose: its first 30,000 rows (fortunes, then WordNet glosses), as two files.
table = pq.read_table(root / "en_prose.parquet").slice(0, 30_000)
(out / "en_prose").mkdir(exist_ok=True)
for i, start in enumerate((0, 15_000)):
    pq.write_table(
        table.slice(start, 15_000),
        out / "en_prose" / f"part-{i}.parquet",
        compression="zstd",
        row_group_size=4096,
    )

# fortunes_intl: every sixth row (de/es/it/ru fortunes and translated Debian hints), snappy.
table = pq.read_table(root / "fortunes_intl.parquet")
pq.write_table(
    table.take(list(range(0, table.num_rows, 6))),
    out / "fortunes_intl.parquet",
    compression="snappy",
    row_group_size=4096,
)

# fortunes_zh: the whole file, byte for byte.
shutil.copyfile(root / "fortunes_zh.parquet", out / "fortunes_zh.parquet")
