"""Independent token counts for prepcost's tests: Python's tiktoken (OpenAI's own package,
not the tiktoken-rs crate prepcost uses) and Python's HuggingFace `tokenizers`.

Writes tests/reference/sample_tokens.json: for each dataset in sample-data/, the tokens of
the text column under cl100k_base, o200k_base and the test tokenizer.json — the total and the
per-row distribution (nearest rank; NULL rows count zero) of the source, and the totals after
every stage of the default pipeline (re-implemented in expected_counts.py).

Text is encoded as ordinary text (`encode_ordinary`; `encode_special_tokens = True` for the
HuggingFace tokenizer): a special-token string inside a text is not the special token.

The vocabularies are read from the files tiktoken-rs ships, checked against the SHA-256 that
tiktoken itself expects of OpenAI's published files, so nothing is downloaded:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyarrow unicodedata2 tiktoken tokenizers
    /tmp/venv/bin/python tests/reference/expected_tokens.py ~/.cargo/registry/src/*/tiktoken-rs-0.9.1/assets

With `--train-tokenizer` it first (re)trains tests/fixtures/tokenizer/tokenizer.json: a small
byte-level BPE (2,000 tokens) on sample-data/en_prose with `<|endoftext|>` as a special token.
"""
import json
import math
import sys
from pathlib import Path

import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

sys.path.insert(0, str(Path(__file__).parent))
import expected_counts as ec  # noqa: E402

REPO = Path(__file__).parent.parent.parent
SAMPLES = {
    "en_prose": "en_prose",
    "fortunes_zh": "fortunes_zh.parquet",
    "fortunes_intl": "fortunes_intl.parquet",
}
TOKENIZER_JSON = REPO / "tests/fixtures/tokenizer/tokenizer.json"


def tiktoken_encoding(name, assets):
    """The named encoding with its vocabulary read from `assets`, hash-checked."""
    real = tiktoken.load.load_tiktoken_bpe

    def local(url, expected_hash=None):
        return real(str(assets / url.rsplit("/", 1)[1]), expected_hash)

    openai_public.load_tiktoken_bpe = local
    return tiktoken.Encoding(**getattr(openai_public, name)())


def train_tokenizer():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2000,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    texts = [t for t in ec.read_texts(REPO / "sample-data/en_prose", "text") if t]
    tokenizer.train_from_iterator(texts, trainer)
    TOKENIZER_JSON.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(TOKENIZER_JSON))


def per_row(counts):
    ordered = sorted(counts)
    n = len(ordered)

    def rank(p):
        # As prepcost computes it: ceil(p × n) in double precision, clamped to 1..n.
        return ordered[min(max(math.ceil(p * n), 1), n) - 1] if n else 0

    return {
        "min": ordered[0] if n else 0,
        "median": rank(0.5),
        "p99": rank(0.99),
        "max": ordered[-1] if n else 0,
    }


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--train-tokenizer" in sys.argv:
        train_tokenizer()
    assets = Path(args[0])
    hf = Tokenizer.from_file(str(TOKENIZER_JSON))
    hf.no_truncation()
    hf.no_padding()
    hf.encode_special_tokens = True
    counters = {
        "cl100k_base": (lambda e: lambda t: len(e.encode_ordinary(t)))(
            tiktoken_encoding("cl100k_base", assets)
        ),
        "o200k_base": (lambda e: lambda t: len(e.encode_ordinary(t)))(
            tiktoken_encoding("o200k_base", assets)
        ),
        "tokenizer.json": lambda t: len(hf.encode(t, add_special_tokens=False).ids),
    }
    result = {"generated_by": "tests/reference/expected_tokens.py", "datasets": {}}
    for name, rel in SAMPLES.items():
        texts = ec.read_texts(REPO / "sample-data" / rel, "text")
        cleaned = [ec.strip_control(t) for t in texts if t is not None]
        cleaned = [t for t in cleaned if len(ec.trim(t)) >= 1]
        normalised = [ec.normalise(t, "NFKC") for t in cleaned]
        seen, deduped = set(), []
        for t in normalised:
            if t not in seen:
                seen.add(t)
                deduped.append(t)
        entry = {"path": rel}
        for tokenizer, count in counters.items():
            source = [count(t) if t is not None else 0 for t in texts]
            entry[tokenizer] = {
                "source": {"total": sum(source), "per_row": per_row(source)},
                "clean": sum(count(t) for t in cleaned),
                "normalise": sum(count(t) for t in normalised),
                "dedup_exact": sum(count(t) for t in deduped),
            }
        result["datasets"][name] = entry
        print(name, {k: v["source"]["total"] for k, v in entry.items() if k != "path"}, file=sys.stderr)
    Path(__file__).with_name("sample_tokens.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
