#!/usr/bin/env python3
"""The minhash stage against an independent MinHash LSH (Python datasketch), side by side.

Three measurements, each printed as Markdown for benches/README.md:

  agreement  On a dataset, the set of documents prepcost's minhash stage removes against the
             set datasketch's MinHash + MinHashLSH removes with identical shingling (the
             stage's normalisation re-implemented below) and parameters (112 permutations,
             14 bands x 8 rows; clusters are unions of candidates, each keeps its first
             document). Disagreements are explained by the exact Jaccard similarity of the
             document to its nearest kept document.
  speed      Documents/s of the stage (its own wall time from the report) and of the
             reference (signatures on all cores with multiprocessing, LSH in one process) on
             the same corpus; the stage's memory forecast, accounted peak and process RSS.
  recall     On a make_bench_corpus.py corpus: recall of the injected near duplicates by
             their exact shingle Jaccard, next to what the S-curve predicts, and a sample of
             removals outside every injected group checked by exact Jaccard.

Needs pyarrow, numpy, datasketch (benches/run.sh installs them into a venv).
"""
import argparse, glob, json, multiprocessing as mp, os, re, statistics, subprocess, sys, tempfile, time
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

try:
    import unicodedata2 as unicodedata
except ImportError:
    import unicodedata

try:  # Only the comparisons need datasketch; the shingling is imported without it.
    from datasketch import MinHash, MinHashLSH
except ImportError:
    MinHash = MinHashLSH = None

BANDS, ROWS, NGRAM, CHAR_NGRAM = 14, 8, 5, 5
THRESHOLD = (1 / BANDS) ** (1 / ROWS)
WS_RE = re.compile("[\t\n\x0b\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
PUNCT = {c: None for c in range(0x110000) if unicodedata.category(chr(c)).startswith("P")}
UNSPACED = [(0x0E00, 0x0FFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x2E80, 0x2FDF), (0x3005, 0x3007),
            (0x3021, 0x3029), (0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
            (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3FFFF)]


def shingles(text):
    """The stage's shingles: lower-cased, punctuation (category P) removed, White_Space runs
    collapsed; word 5-grams, or character 5-grams when most characters are from scripts
    written without spaces; a text shorter than one shingle is one shingle."""
    if text is None:
        return set()
    t = WS_RE.sub(" ", text.lower().translate(PUNCT)).strip(" ")
    if not t:
        return set()
    if not t.isascii():
        chars = [c for c in t if c != " "]
        unspaced = sum(1 for c in chars if any(a <= ord(c) <= b for a, b in UNSPACED))
        if unspaced * 2 > len(chars):
            return {t} if len(t) <= CHAR_NGRAM else {t[i:i + CHAR_NGRAM] for i in range(len(t) - CHAR_NGRAM + 1)}
    w = t.split(" ")
    return {t} if len(w) <= NGRAM else {" ".join(w[i:i + NGRAM]) for i in range(len(w) - NGRAM + 1)}


def jaccard(a, b):
    u = len(a | b)
    return len(a & b) / u if u else 1.0


def signature(text):
    s = shingles(text)
    if not s:
        return None
    m = MinHash(num_perm=BANDS * ROWS, seed=1)
    m.update_batch([x.encode("utf-8", "surrogatepass") for x in s])
    return m.hashvalues


class UnionFind:
    def __init__(self, n):
        self.p = list(range(n))

    def find(self, x):
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.p[max(a, b)] = min(a, b)


def reference(texts, processes):
    """datasketch: signatures on `processes` processes, then LSH in source order; every
    document is joined with every earlier one it shares a band with. Returns the removed
    positions, the LSH and the signatures."""
    with mp.Pool(processes) as pool:
        signatures = pool.map(signature, texts, chunksize=2000)
    lsh = MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))
    sets = UnionFind(len(texts))
    for i, hv in enumerate(signatures):
        if hv is None:
            continue
        m = MinHash(num_perm=BANDS * ROWS, hashvalues=hv, scheme="affine32")
        for j in lsh.query(m):
            sets.union(i, j)
        lsh.insert(i, m, check_duplication=False)
    removed = {i for i in range(len(texts)) if sets.find(i) != i}
    return removed, lsh, signatures


def read(path, columns):
    files = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True)) if os.path.isdir(path) else [path]
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files])


def prepcost(binary, source, out=None, verify=False):
    """Runs a pipeline of one minhash stage; returns the report (and the output ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = os.path.join(tmp, "minhash.toml")
        with open(pipeline, "w") as f:
            f.write('[[stages]]\nkind = "minhash"\n' + ("params = { verify = true }\n" if verify else ""))
        cmd = [binary, "profile", source, "--pipeline", pipeline, "--tokenizer", "none", "--format", "json", "-q"]
        if out:
            cmd += ["--output", os.path.join(tmp, "out")]
        report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        kept = set(read(os.path.join(tmp, "out"), ["id"]).column("id").to_pylist()) if out else None
    return report, kept


def nearest(targets, texts, skip=lambda i, j: i == j):
    """For each target position, the exact Jaccard of its shingles to the most similar other
    document (one pass over all texts; only documents sharing a shingle are compared)."""
    target_sets = {i: shingles(texts[i]) for i in targets}
    owners = {}
    for i, s in target_sets.items():
        for x in s:
            owners.setdefault(x, []).append(i)
    best = {i: 0.0 for i in targets}
    for j, text in enumerate(texts):
        s = shingles(text)
        for i in {i for x in s for i in owners.get(x, ())}:
            if not skip(i, j):
                best[i] = max(best[i], jaccard(target_sets[i], s))
    return [best[i] for i in targets]


def describe(sims):
    bins = [(0, 0.5), (0.5, THRESHOLD), (THRESHOLD, 0.9), (0.9, 1.01)]
    counts = [sum(lo <= x < hi for x in sims) for lo, hi in bins]
    return (f"nearest other document's exact Jaccard: median {statistics.median(sims):.3f}; "
            f"{counts[0]} below 0.5, {counts[1]} in 0.5–{THRESHOLD:.3f}, {counts[2]} in {THRESHOLD:.3f}–0.9, "
            f"{counts[3]} at 0.9 or more")


def agreement(args):
    table = read(args.data, ["id", "text"])
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    report, kept = prepcost(args.binary, args.data, out=True)
    ours = {i for i, id_ in enumerate(ids) if id_ not in kept}
    theirs, _, _ = reference(texts, args.processes)
    both = ours & theirs
    only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
    agree = len(texts) - len(only_ours) - len(only_theirs)
    print(f"### Agreement on `{os.path.basename(args.data.rstrip('/'))}` ({len(texts):,} documents)\n")
    print("| | removed by prepcost | removed by datasketch | removed by both | only prepcost | only datasketch | documents with the same decision |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| | {len(ours):,} | {len(theirs):,} | {len(both):,} | {len(only_ours):,} | {len(only_theirs):,} | {agree:,} ({100 * agree / len(texts):.3f}%) |\n")
    for name, docs in (("only prepcost", only_ours), ("only datasketch", only_theirs)):
        if docs:
            print(f"- {name}: {len(docs)} documents; {describe(nearest(docs, texts))}")
    if both:
        sample = sorted(both)[:: max(1, len(both) // 300)]
        print(f"- removed by both (sample of {len(sample)}): {describe(nearest(sample, texts))}")
    stage = report["stages"][0]
    print(f"\nprepcost stage: {stage['wall_seconds']:.2f} s; reference: see speed.\n")


def speed(args):
    table = read(args.data, ["text"])
    texts = table.column("text").to_pylist()
    n = len(texts)
    runs = []
    for _ in range(args.repeat):
        report, _ = prepcost(args.binary, args.data)
        runs.append(report)
    walls = sorted(r["stages"][0]["wall_seconds"] for r in runs)
    median = statistics.median(walls)
    started = time.perf_counter()
    removed, _, _ = reference(texts, args.processes)
    reference_seconds = time.perf_counter() - started
    ours = runs[0]["stages"][0]
    nd = ours["near_dedup"]
    print(f"### Speed on `{os.path.basename(args.data.rstrip('/'))}` ({n:,} documents, {os.cpu_count()} cores)\n")
    print("| | documents/s | wall s | removed |")
    print("| --- | --- | --- | --- |")
    print(f"| prepcost minhash stage (median of {len(walls)}) | {n / median:,.0f} | {median:.2f} ({walls[0]:.2f}–{walls[-1]:.2f}) | {nd['rows_removed']:,} |")
    print(f"| datasketch reference ({args.processes} processes for signatures) | {n / reference_seconds:,.0f} | {reference_seconds:.1f} | {len(removed):,} |")
    print(f"\nprepcost / reference: **{reference_seconds / median:.1f}×** "
          f"(range {reference_seconds / walls[-1]:.1f}–{reference_seconds / walls[0]:.1f}×).\n")
    mem = nd["memory"]
    print(f"Memory: forecast {mem['forecast_bytes'] / 2**20:.0f} MiB, peak held by the stage "
          f"{mem['peak_bytes'] / 2**20:.0f} MiB, resident memory growth {(mem.get('rss_growth_bytes') or 0) / 2**20:.0f} MiB "
          f"({100 * (mem.get('rss_growth_bytes') or 0) / mem['forecast_bytes']:.0f}% of the forecast), "
          f"{mem['bands_per_pass']} bands per pass; time: signatures {nd['seconds']['signatures']:.2f} s, "
          f"clustering {nd['seconds']['clustering']:.2f} s, report {nd['seconds']['report']:.2f} s; "
          f"process peak RSS {runs[0]['totals']['peak_rss_bytes'] / 2**20:.0f} MiB (input held in memory included).\n")


def recall(args):
    labels = pq.read_table(args.labels).to_pylist()
    table = read(args.data, ["id", "text"])
    text_of = dict(zip(table.column("id").to_pylist(), table.column("text").to_pylist()))
    report, kept = prepcost(args.binary, args.data, out=True, verify=args.verify)
    original = {}
    for row in labels:
        original[row["id"]] = row["id"] if row["kind"] == "original" else row["dup_of"]
    group, copies = {}, {}
    for row in labels:
        group.setdefault(original[row["id"]], []).append(row["id"])
        if row["kind"] != "near_dup":
            copies.setdefault(original[row["id"]], []).append(row["id"])
    bins = [(0.0, 0.6), (0.6, THRESHOLD), (THRESHOLD, 0.8), (0.8, 0.9), (0.9, 1.01)]
    found = {b: [0, 0, 0.0] for b in bins}
    for row in labels:
        if row["kind"] != "near_dup":
            continue
        a, o = row["id"], original[row["id"]]
        j = jaccard(shingles(text_of[a]), shingles(text_of[o]))
        # Found: the near duplicate and its original (or an exact copy of it) are not both kept.
        hit = not (a in kept and any(m in kept for m in copies[o]))
        for b in bins:
            if b[0] <= j < b[1]:
                found[b][0] += 1
                found[b][1] += hit
                found[b][2] += 1 - (1 - j ** ROWS) ** BANDS
    print(f"### Recall of injected near duplicates (`{os.path.basename(args.data.rstrip('/'))}`"
          f"{', verify = true' if args.verify else ''})\n")
    print("| exact word-5 Jaccard to the original | near duplicates | found | recall | S-curve predicts |")
    print("| --- | --- | --- | --- | --- |")
    total = [0, 0]
    for b in bins:
        n, hit, expected = found[b]
        if b[0] >= THRESHOLD:
            total[0] += n
            total[1] += hit
        hi = "1" if b[1] > 1 else f"{b[1]:.3f}"
        if n:
            print(f"| {b[0]:.3f}–{hi} | {n:,} | {hit:,} | {hit / n:.3f} | {expected / n:.3f} |")
    print(f"\nInside the threshold (Jaccard ≥ {THRESHOLD:.3f}): recall **{total[1] / max(total[0], 1):.3f}** "
          f"({total[1]:,} of {total[0]:,}); stage removed {report['stages'][0]['near_dedup']['rows_removed']:,} rows.\n")
    extra = sorted(m for o, members in group.items() if not any(x in kept for x in members) for m in members)
    ids = sorted(text_of)
    texts = [text_of[i] for i in ids]
    position = {id_: i for i, id_ in enumerate(ids)}
    sample = extra[:: max(1, len(extra) // 100)][:100]
    same_group = lambda i, j: original[ids[i]] == original[ids[j]]
    sims = nearest([position[i] for i in sample], texts, skip=same_group) if sample else []
    print(f"Removals outside every injected group (the whole group removed): {len(extra):,} documents "
          f"of {len(ids):,}." + (f" A sample of {len(sample)}, {describe(sims)} outside its group." if sims else "") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["agreement", "speed", "recall"])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--processes", type=int, default=os.cpu_count())
    ap.add_argument("--verify", action="store_true", help="recall: run the stage with verify = true")
    args = ap.parse_args()
    {"agreement": agreement, "speed": speed, "recall": recall}[args.what](args)


if __name__ == "__main__":
    main()
