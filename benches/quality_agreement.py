"""How often prepcost's quality UDFs keep or drop a text as datatrove's filters do.

    python benches/quality_agreement.py --binary target/release/prepcost \
        [--datasets ../shared/datasets/text/en_prose.parquet ../shared/datasets/text/llm_mix]
        [--examples 5]

Needs `datatrove` and `spacy` (`pip install datatrove spacy regex loguru`). For each dataset it
runs datatrove's GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter (its defaults,
and as FineWeb runs it, keeping lines without terminal punctuation; and the text it writes,
against `c4_clean`) and FineWebQualityFilter (their defaults, English) on every text, and
prepcost's functions in a SQL stage
whose result `--output` writes in source order; then prints one row per dataset and filter:
texts, kept by each, agreement, and the disagreements by the reference's reason, with a few
examples of each.
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

import pyarrow.dataset as ds

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

# (column, prepcost's call, datatrove's filter)
FILTERS = [
    ("gopher_quality", "gopher_quality(text)", GopherQualityFilter),
    ("gopher_repetition", "gopher_repetition(text)", GopherRepetitionFilter),
    ("c4_quality", "c4_quality(text)", C4QualityFilter),
    ("c4_fineweb", "c4_quality(text, false)",
     lambda: C4QualityFilter(filter_no_terminal_punct=False)),
    ("c4_clean", "c4_clean(text, false)",
     lambda: C4QualityFilter(filter_no_terminal_punct=False)),
    ("fineweb_quality", "fineweb_quality(text)", FineWebQualityFilter),
]

STAGE = """SELECT *, {columns} FROM input"""


def reference(texts, make, cleaned=False):
    """Per text: (kept, reason) from datatrove, or with `cleaned` the text it writes ('' for a
    text it drops); and the seconds it took."""
    f = make()
    out = []
    start = time.perf_counter()
    for i, text in enumerate(texts):
        doc = Document(text=text, id=str(i))
        try:
            r = f.filter(doc)
        except ZeroDivisionError:
            r = (False, "error: division by zero")
        if cleaned:
            out.append((doc.text if r is True else "", ""))
        else:
            out.append((True, "") if r is True else (False, r[1] if isinstance(r, tuple) else "dropped"))
    return out, time.perf_counter() - start


def prepcost(binary, dataset):
    """Per text, per filter: prepcost's decision."""
    with tempfile.TemporaryDirectory() as tmp:
        columns = ", ".join(f"{call} AS {name}" for name, call, _ in FILTERS)
        with open(os.path.join(tmp, "quality.sql"), "w") as f:
            f.write(STAGE.format(columns=columns))
        with open(os.path.join(tmp, "pipeline.toml"), "w") as f:
            f.write('[[stages]]\nname = "quality"\nsql = "quality.sql"\n')
        out = os.path.join(tmp, "out")
        subprocess.run(
            [binary, "profile", dataset, "--pipeline", os.path.join(tmp, "pipeline.toml"),
             "--output", out, "--tokenizer", "none", "--quiet", "--format", "json"],
            check=True, capture_output=True,
        )
        table = ds.dataset(out).to_table(columns=["text"] + [n for n, _, _ in FILTERS])
        return {name: table.column(name).to_pylist() for name, _, _ in FILTERS}, table.column("text").to_pylist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--datasets", nargs="+", default=[
        "../shared/datasets/text/en_prose.parquet", "../shared/datasets/text/llm_mix"])
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args()
    print("| dataset | filter | texts | kept (datatrove) | kept (prepcost) | agreement |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    notes = []
    for dataset in args.datasets:
        ours, texts = prepcost(args.binary, dataset)
        texts = [t for t in texts]
        for name, _, make in FILTERS:
            cleaned = name == "c4_clean"
            theirs, seconds = reference(texts, make, cleaned)
            mine = ours[name]
            agree = (lambda k, m: k == m) if cleaned else (lambda k, m: k == bool(m))
            same = sum(1 for (k, _), m in zip(theirs, mine) if agree(k, m))
            print(f"| {os.path.basename(dataset)} | {name} | {len(texts):,} | "
                  f"{sum(bool(k) for k, _ in theirs):,} | {sum(bool(m) for m in mine):,} | "
                  f"{100 * same / len(texts):.2f}% |")
            by_reason = collections.defaultdict(list)
            for i, ((k, reason), m) in enumerate(zip(theirs, mine)):
                if not agree(k, m):
                    by_reason[(reason or "kept", "prepcost kept" if m else "prepcost dropped")].append(i)
            for (reason, ours_said), rows in sorted(by_reason.items(), key=lambda x: -len(x[1])):
                notes.append(f"{os.path.basename(dataset)} {name}: datatrove {reason}, {ours_said}: {len(rows)}")
                for i in rows[: args.examples]:
                    notes.append("    " + repr(texts[i][:300]))
            notes.append(f"{os.path.basename(dataset)} {name}: datatrove took {seconds:.1f} s")
    print()
    print("\n".join(notes), file=sys.stderr)


if __name__ == "__main__":
    main()
