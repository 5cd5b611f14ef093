#!/usr/bin/env bash
# Runs the benchmarks of benches/ on this machine. Needs the shared datasets (for
# make_bench_corpus.py) and Python 3 with venv; installs pyarrow and duckdb into a venv
# under $HOME/.cache/prepcost. Prints Markdown for benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${PREPCOST_CACHE:-$HOME/.cache/prepcost}"
datasets="${PREPCOST_DATASETS:-../shared/datasets}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"

venv="$cache/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pyarrow duckdb polars
fi
"$venv/bin/python" -c 'import polars' 2>/dev/null || "$venv/bin/pip" install --quiet polars
"$venv/bin/python" -c 'import datasketch' 2>/dev/null || "$venv/bin/pip" install --quiet datasketch
corpus="$cache/bench_1m"
if [ ! -f "$corpus.truth.json" ]; then
    "$venv/bin/python" "$datasets/make_bench_corpus.py" --source "$datasets/text/en_prose.parquet" \
        --rows 1000000 --exact-frac 0.10 --near-frac 0.10 --edit-rate 0.05 --seed 42 --out "$corpus" >&2
fi
cargo build --release --quiet
"$venv/bin/python" benches/profile_pipeline.py --binary "$CARGO_TARGET_DIR/release/prepcost" \
    --corpus "$corpus" --repeat "${REPEAT:-5}"
"$venv/bin/python" benches/footer_scan.py --binary "$CARGO_TARGET_DIR/release/prepcost" \
    --repeat "${REPEAT:-7}"
# Builds the bench target $1 and prints the path of its executable.
bench_executable() {
    cargo build --release --bench "$1" --message-format=json 2>/dev/null |
        "$venv/bin/python" -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if (m.get("executable") or "").split("/")[-1].startswith(sys.argv[1] + "-"):
        print(m["executable"])' "$1"
}
"$(bench_executable remote_inspect)" --objects 1000 --repeat "${REPEAT:-5}"
raw=$(bench_executable decode_limit)
"$(bench_executable token_count)" "$datasets" --runs "${REPEAT:-3}"
# The race at 1 M and 4 M rows (the same recipe, four times the rows), then how each figure grew.
corpus4m="$cache/bench_4m"
if [ ! -f "$corpus4m.truth.json" ]; then
    "$venv/bin/python" "$datasets/make_bench_corpus.py" --source "$datasets/text/en_prose.parquet" \
        --rows 4000000 --exact-frac 0.10 --near-frac 0.10 --edit-rate 0.05 --seed 42 --out "$corpus4m" >&2
fi
for c in "$corpus" "$corpus4m"; do
    "$venv/bin/python" benches/race.py --binary "$CARGO_TARGET_DIR/release/prepcost" --corpus "$c" \
        --raw "$raw" --repeat "${REPEAT:-3}" --save "$cache/race_$(basename "$c").json"
done
"$venv/bin/python" benches/race.py --scale "$cache/race_bench_1m.json" "$cache/race_bench_4m.json"
"$(bench_executable instrumentation)" "$corpus" --repeat "${REPEAT:-15}"
"$venv/bin/python" benches/loader_throughput.py --binary "$CARGO_TARGET_DIR/release/prepcost" \
    --raw "$raw" --data "$corpus" --repeat "${REPEAT:-7}"
recall="$cache/bench_200k_e02"
if [ ! -f "$recall.truth.json" ]; then
    "$venv/bin/python" "$datasets/make_bench_corpus.py" --source "$datasets/text/en_prose.parquet" \
        --rows 200000 --exact-frac 0.05 --near-frac 0.15 --edit-rate 0.02 --seed 7 --out "$recall" >&2
fi
for what in agreement recall speed; do
    case $what in
        agreement) data="$datasets/text/en_prose.parquet" ;;
        recall) data="$recall" ;;
        speed) data="$corpus" ;;
    esac
    "$venv/bin/python" benches/near_dedup.py "$what" --binary "$CARGO_TARGET_DIR/release/prepcost" \
        --data "$data" --labels "$recall.labels.parquet" --repeat "${REPEAT:-3}"
done
grouping=$(bench_executable band_grouping)
"$grouping" "$corpus" --repeat "${REPEAT:-5}"
"$venv/bin/python" benches/near_dedup.py recall --verify --binary "$CARGO_TARGET_DIR/release/prepcost" \
    --data "$recall" --labels "$recall.labels.parquet"
# Sampling: 2 M rows in 16 files of 512-row row groups (so that 1% draws 39 of them), profiled
# in full and from 1% and 10% samples of each mode, 20 seeds each.
sampled="$cache/bench_2m_rg512"
if [ ! -f "$sampled.truth.json" ]; then
    "$venv/bin/python" "$datasets/make_bench_corpus.py" --source "$datasets/text/en_prose.parquet" \
        --rows 2000000 --files 16 --row-group-size 512 --exact-frac 0.10 --near-frac 0.10 \
        --edit-rate 0.05 --seed 7 --out "$sampled" --quiet >&2
fi
"$venv/bin/python" benches/sampling_accuracy.py --binary "$CARGO_TARGET_DIR/release/prepcost" \
    --corpus "$sampled" --seeds 20 --full-runs 3
