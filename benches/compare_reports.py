#!/usr/bin/env python3
"""Compares the JSON reports of two prepcost binaries on sample-data/, field by field.

    python3 benches/compare_reports.py BEFORE_BINARY AFTER_BINARY
    python3 benches/compare_reports.py BINARY --write tests/reference/reports

Every run of tests/integration/reports.rs is made with each binary; figures that measure the
machine or the moment (times, rates, memory, CPU and the money made of them) are masked, as
that test masks them. Prints each field that differs and exits 1 when any does. With
--write, writes the masked reports of one binary as that test's reference reports.

Needs only Python 3; run from the repository's root.
"""

import json
import subprocess
import sys
from pathlib import Path

RUNS = [
    ("profile_en_prose", ["profile", "sample-data/en_prose"]),
    ("profile_fortunes_zh_near_dedup",
     ["profile", "sample-data/fortunes_zh.parquet", "--near-dedup", "--tokenizer", "o200k_base"]),
    ("inspect_en_prose", ["inspect", "sample-data/en_prose"]),
    ("inspect_fortunes_intl_what_if",
     ["inspect", "sample-data/fortunes_intl.parquet", "--what-if", "--min-decode-mb-per-s", "0",
      "--columns", "text,lang"]),
    ("loader_en_prose", ["loader", "sample-data/en_prose", "--workers", "1,2"]),
    ("loader_fortunes_zh_shuffled",
     ["loader", "sample-data/fortunes_zh.parquet", "--workers", "2", "--shuffle", "--seed", "7",
      "--batch-size", "100", "--target-tokens-per-s", "1"]),
]

MEASURED = {
    "peak_memory_bytes", "peak_rss_bytes", "result_bytes", "memory_limit_bytes",
    "rss_growth_bytes", "peak_bytes", "threads", "cores", "core_hours", "compute_usd",
    "cpu_utilisation", "speedup", "efficiency", "seconds", "headroom", "summary", "fast_enough",
    "run_cpu_by_part",
    "run_wall_by_part",
}


def mask(value):
    if isinstance(value, dict):
        return {
            key: "measured"
            if key in MEASURED or key.endswith(("_seconds", "_s", "_per_second"))
            else mask(field)
            for key, field in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def report(binary, args):
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([binary, *args, "--format", "json"], capture_output=True, text=True,
                         env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"{binary} {' '.join(args)}: exit {out.returncode}: {out.stderr}")
    return mask(json.loads(out.stdout))


def differences(path, before, after):
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(before) + [k for k in after if k not in before]:
            yield from differences(f"{path}.{key}", before.get(key), after.get(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            yield from differences(f"{path}[{i}]", b, a)
    elif before != after:
        yield f"{path}: {json.dumps(before)} → {json.dumps(after)}"


def main():
    if len(sys.argv) == 4 and sys.argv[2] == "--write":
        target = Path(sys.argv[3])
        for name, args in RUNS:
            text = json.dumps(report(sys.argv[1], args), indent=2, ensure_ascii=False)
            (target / f"{name}.json").write_text(text + "\n")
        return 0
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    found = 0
    for name, args in RUNS:
        before, after = report(sys.argv[1], args), report(sys.argv[2], args)
        fields = list(differences(name, before, after))
        found += len(fields)
        print(f"{name}: {'same' if not fields else f'{len(fields)} fields differ'}")
        for field in fields:
            print(f"  {field}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
