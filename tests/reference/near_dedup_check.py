"""Checks the near-dedup figures of a profile report against an independent MinHash LSH.

    python tests/reference/near_dedup_check.py --binary target/release/prepcost \
        --report tests/reference/reports/profile_fortunes_zh_near_dedup.json \
        --source sample-data/fortunes_zh.parquet

The minhash stage's input is the default pipeline's result (clean, normalise, dedup_exact),
which prepcost writes with --output. Its documents are cut into shingles as the stage cuts
them (benches/near_dedup.py's Python re-implementation). An ideal MinHash LSH with the
report's bands and rows — each permutation a fresh random value per shingle, a document's
signature the minimum over its shingles, documents joined when a band agrees, the first of
each group kept — is run 100 times with independent random hashes (seeded: the check is
deterministic): the documents it removes form the distribution the stage's figure is one draw
of (collisions between documents that share boilerplate are correlated, so only a simulation
of whole signatures gives it). The report's rows_removed must lie within the range of the
draws, and its count of documents must be the input's. Prints the figures; exits 1 when one is out of bounds. Needs
pyarrow and numpy.
"""
import argparse, glob, json, os, subprocess, sys, tempfile

import numpy as np

import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benches"))
from near_dedup import UnionFind, shingles  # noqa: E402


def stage_input(binary, source, column):
    """The texts the minhash stage reads: the default pipeline's result, in source order."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        subprocess.run([binary, "profile", source, "--tokenizer", "none", "--output", out,
                        "--quiet", "--format", "json"], check=True, capture_output=True)
        files = sorted(glob.glob(os.path.join(out, "*.parquet")))
        return [t for f in files for t in pq.read_table(f, columns=[column]).column(column).to_pylist()]


def removals(sets, bands, rows, trials, seed=7):
    """The documents an ideal MinHash LSH removes, in each of `trials` runs."""
    ids = {}
    members, owners = [], []
    for d, s in enumerate(sets):
        for x in s:
            members.append(ids.setdefault(x, len(ids)))
            owners.append(d)
    members, owners = np.array(members), np.array(owners)
    docs = np.unique(owners)
    starts = np.searchsorted(owners, docs)
    rng = np.random.default_rng(seed)
    counts = []
    for _ in range(trials):
        values = rng.integers(0, 2**63, size=(len(ids), bands * rows), dtype=np.int64)
        signatures = np.minimum.reduceat(values[members], starts, axis=0)
        groups = UnionFind(len(sets))
        for b in range(bands):
            band = np.ascontiguousarray(signatures[:, b * rows:(b + 1) * rows])
            _, first, inverse = np.unique(band.view([("", band.dtype)] * rows), return_index=True,
                                          return_inverse=True)
            leaders = first[inverse.ravel()]
            for i in np.nonzero(leaders != np.arange(len(docs)))[0]:
                groups.union(int(docs[i]), int(docs[leaders[i]]))
        counts.append(sum(1 for d in docs if groups.find(int(d)) != d))
    return sorted(counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    report = json.load(open(args.report))
    stage = next(s for s in report["stages"] if s.get("near_dedup"))
    figures = stage["near_dedup"]
    texts = stage_input(args.binary, args.source, figures["column"])
    sets = [shingles(t) for t in texts]
    draws = removals(sets, figures["bands"], figures["rows_per_band"], 100)
    low, high = draws[0], draws[-1]
    checks = [
        ("documents", figures["documents"], len(texts), len(texts)),
        ("rows_removed", figures["rows_removed"], low, high),
    ]
    failed = False
    for name, value, least, most in checks:
        ok = least <= value <= most
        failed |= not ok
        print(f"{name}: {value} (independent: {least}..{most}) {'ok' if ok else 'OUT OF BOUNDS'}")
    print(f"documents removed by the independent LSH, median of {len(draws)} runs: "
          f"{draws[len(draws) // 2]}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
