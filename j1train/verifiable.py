"""``python -m j1train data --recipe verifiable``: judge pairs whose better response a rule decides.

No generator model: every pair is made from the project's own lists (:mod:`j1train.verifiable_lists`).
Families (the pair's ``subset``), each with its rule:

- ``copy``: "copy this sentence exactly": the exact copy beats a copy with one word changed;
- ``one-word``: "answer with one word only": the one-word answer beats a long one;
- ``refusal``: a harmless question: the answer beats a polite refusal;
- ``on-topic``: the answer to the question beats the answer to another question (other category);
- ``scrambled``: "write one clear sentence about T": the sentence beats the same words shuffled;
- ``case``: "answer in capital (lowercase) letters only": the answer in that case beats it as written;
- ``arithmetic``: a sum, difference or product: the correct result beats one off by one;
- ``fact``: a question: the answer with the right fact beats the same sentence with a wrong one.

Splits: facts, sentences and sums are each cut 60/20/20 into train, validation and test by a
seeded shuffle, and every family takes its pairs from its items' split, so no question (nor the
fact or sentence behind it) is in two splits. Within each split and family, exactly half the
pairs (one more when odd) put the better response in slot 1 (seeded), and where a family has
worse responses of several lengths to choose from, half of its pairs get a worse response
shorter than the better one and half a longer one (``copy``, ``refusal``, ``on-topic``); ``case``,
``scrambled`` and ``arithmetic`` have equal lengths; ``fact`` keeps its lists' lengths; ``one-word``
cannot be balanced (its better response is the short one by definition). ``manifest.json`` and the
summary report, per split and family, ``first`` (better response in slot 1) and ``longer`` (better
response strictly longer; ``equal`` beside it).

Output: ``OUT/{train,validation,test}/pairs.jsonl`` (each a ``--bench pairs --data-dir`` folder)
and ``OUT/manifest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from j1eval.errors import InputError
from j1eval.safe_io import write_jsonl
from j1eval.store.judgments import MANIFEST_FILE, write_json
from j1train.verifiable_lists import ELABORATIONS, FACTS, REFUSALS, SENTENCES, SWAP_WORDS

FAMILIES = ("copy", "one-word", "refusal", "on-topic", "scrambled", "case", "arithmetic", "fact")
SPLITS = ("train", "validation", "test")
FRACTIONS = (0.6, 0.2, 0.2)
PAIRS_FILE = "pairs.jsonl"
N_SUMS = 80


@dataclass(frozen=True)
class Made:
    """One pair before its slots are drawn: the better and the worse response, and the rule."""

    pair_id: str
    family: str
    split: str
    item: str
    prompt: str
    better: str
    worse: str
    rule: str


def _hash(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def split_items(ids: Sequence[str], seed: int, kind: str) -> dict[str, str]:
    """Item id -> split: a seeded shuffle cut 60/20/20 (train, validation, test)."""
    order = sorted(ids, key=lambda i: _hash("split", seed, kind, i))
    n_train = round(FRACTIONS[0] * len(order))
    n_val = round(FRACTIONS[1] * len(order))
    return {
        i: SPLITS[0] if k < n_train else SPLITS[1] if k < n_train + n_val else SPLITS[2] for k, i in enumerate(order)
    }


def alternate(keys: Iterable[str], seed: int, salt: str) -> dict[str, bool]:
    """Key -> True for exactly half of ``keys`` (one more when odd), chosen by a seeded hash order."""
    order = sorted(keys, key=lambda k: _hash(salt, seed, k))
    return {k: i % 2 == 0 for i, k in enumerate(order)}


def by_length(better: str, candidates: Iterable[str], want_shorter: bool) -> str:
    """The candidate closest in length to ``better`` on the wanted side (shorter or longer), else the closest."""
    pool = [c for c in candidates if c != better]
    side = [c for c in pool if (len(c) < len(better)) == want_shorter and len(c) != len(better)]
    return min(side or pool, key=lambda c: (abs(len(c) - len(better)), c))


def sums() -> list[tuple[str, int, str, int, int]]:
    """``N_SUMS`` distinct (id, a, op, b, result) from a fixed generator (the same on every machine)."""
    rng = random.Random("j1train-verifiable-sums")
    seen: set[tuple[int, str, int]] = set()
    out = []
    while len(out) < N_SUMS:
        op = ("+", "-", "x")[len(out) % 3]
        a, b = (rng.randint(3, 19), rng.randint(3, 19)) if op == "x" else (rng.randint(12, 99), rng.randint(12, 99))
        if op == "-" and a < b:
            a, b = b, a
        if (a, op, b) in seen:
            continue
        seen.add((a, op, b))
        result = a + b if op == "+" else a - b if op == "-" else a * b
        out.append((f"sum-{len(out):02d}", a, op, b, result))
    return out


def off_by_one(result: int, up: bool) -> int:
    """``result`` plus or minus one, keeping its number of digits (and never below 0)."""
    other = result + 1 if up else result - 1
    if other < 0 or len(str(other)) != len(str(result)):
        other = result - 1 if up else result + 1
    return other


def _changed_copy(sentence: str, item: str, seed: int, shorter: bool) -> str:
    words = sentence.split(" ")
    spots = [k for k, w in enumerate(words) if k > 0 and w.isalpha() and len(w) >= 4]  # a shorter swap exists
    spots = spots or [k for k, w in enumerate(words) if k > 0 and w.isalpha()]
    k = spots[_hash("copy-word", seed, item)[0] % len(spots)]
    words[k] = by_length(words[k], (w for w in SWAP_WORDS if w != words[k].lower()), shorter)
    return " ".join(words)


def _scrambled(sentence: str, item: str, seed: int) -> str:
    words = sentence.split(" ")
    rng = random.Random(_hash("scramble", seed, item))
    for _ in range(100):
        rng.shuffle(words)
        if " ".join(words) != sentence and words[-1] != sentence.split(" ")[-1]:
            break
    return " ".join(words)


def make_pairs(seed: int = 0, families: Sequence[str] = FAMILIES) -> list[Made]:
    """Every family's pairs, in a fixed order (family, then item)."""
    fact_ids = [f"fact-{k:02d}" for k in range(len(FACTS))]
    sentence_ids = [f"sentence-{k:02d}" for k in range(len(SENTENCES))]
    all_sums = sums()
    fact_split = split_items(fact_ids, seed, "fact")
    sentence_split = split_items(sentence_ids, seed, "sentence")
    sum_split = split_items([s[0] for s in all_sums], seed, "sum")
    made: list[Made] = []
    for family in families:
        ids, where = (sentence_ids, sentence_split) if family in ("copy", "scrambled") else (fact_ids, fact_split)
        shorter: dict[str, bool] = {}  # worse response shorter than the better one: half of each split
        for split in SPLITS:
            shorter.update(alternate((f"{family}:{i}" for i in ids if where[i] == split), seed, "length"))

        def add(item: str, split: str, prompt: str, better: str, worse: str, rule: str, fam: str = family) -> None:
            made.append(Made(f"{fam}:{item}", fam, split, item, prompt, better, worse, rule))

        if family in ("copy", "scrambled"):
            for item, (topic, sentence) in zip(sentence_ids, SENTENCES, strict=True):
                split = sentence_split[item]
                if family == "copy":
                    prompt = f"Copy the following sentence exactly, and write nothing else.\n\n{sentence}"
                    worse = _changed_copy(sentence, item, seed, shorter[f"copy:{item}"])
                    add(item, split, prompt, sentence, worse, "the exact copy beats a copy with one word changed")
                else:
                    prompt = f"Write one clear sentence about {topic}."
                    worse = _scrambled(sentence, item, seed)
                    add(item, split, prompt, sentence, worse, "the sentence beats the same words shuffled")
        elif family == "arithmetic":
            up = alternate((s[0] for s in all_sums), seed, "off-by-one")
            for item, a, op, b, result in all_sums:
                prompt = f"What is {a} {op} {b}? Give the result."
                better, worse = f"{a} {op} {b} = {result}", f"{a} {op} {b} = {off_by_one(result, up[item])}"
                add(item, sum_split[item], prompt, better, worse, "the correct result beats one off by one")
        else:
            for item, fact in zip(fact_ids, FACTS, strict=True):
                add(
                    item,
                    fact_split[item],
                    *_fact_pair(family, item, fact, fact_split, seed, shorter[f"{family}:{item}"]),
                )
    return made


def _fact_pair(
    family: str, item: str, fact: tuple[str, str, str, str, str], split: dict[str, str], seed: int, shorter: bool
) -> tuple[str, str, str, str]:
    """(prompt, better, worse, rule) of a fact family."""
    category, question, answer, wrong, sentence = fact
    if family == "one-word":
        long = f"{sentence} {ELABORATIONS[_hash('elaborate', seed, item)[0] % len(ELABORATIONS)]}"
        return f"Answer with one word only. {question}", answer, long, "the one-word answer beats a long one"
    if family == "refusal":
        return question, sentence, by_length(sentence, REFUSALS, shorter), "the answer beats a refusal"
    if family == "on-topic":
        others = [f[4] for k, f in enumerate(FACTS) if split[f"fact-{k:02d}"] == split[item] and f[0] != category]
        worse = by_length(sentence, others, shorter)
        return question, sentence, worse, "the answer to the question beats the answer to another question"
    if family == "case":
        upper = _hash("case", seed, item)[0] % 2 == 0
        word = "capital" if upper else "lowercase"
        better = sentence.upper() if upper else sentence.lower()
        return f"Answer in {word} letters only. {question}", better, sentence, f"the answer in {word} letters wins"
    if family == "fact":
        words = sentence.split(" ")
        k = next(k for k, w in enumerate(words) if w.rstrip(".") == answer)
        words[k] = words[k].replace(answer, wrong)
        return question, sentence, " ".join(words), "the right fact beats a wrong one"
    raise InputError(f"unknown family {family!r} (known: {', '.join(FAMILIES)})", field="families")


def records(made: Sequence[Made], seed: int) -> list[dict[str, Any]]:
    """Pairs-file records: the better response's slot balanced (seeded) within each split and family."""
    first: dict[str, bool] = {}
    for split in SPLITS:
        for family in FAMILIES:
            first.update(alternate((m.pair_id for m in made if m.split == split and m.family == family), seed, "slot"))
    out = []
    for m in made:
        slot1 = first[m.pair_id]
        r1, r2 = (m.better, m.worse) if slot1 else (m.worse, m.better)
        prov = {"recipe": "verifiable", "family": m.family, "split": m.split, "item": m.item, "rule": m.rule}
        out.append(
            {
                "pair_id": m.pair_id,
                "prompt": m.prompt,
                "response_1": r1,
                "response_2": r2,
                "label": 1 if slot1 else 2,
                "subset": m.family,
                "provenance": prov,
            }
        )
    return out


@dataclass(frozen=True)
class Balance:
    """Per split (and family): pairs, better response in slot 1, better response strictly longer, equal lengths."""

    n: int
    first: float
    longer: float
    equal: float


def balance(recs: Sequence[dict[str, Any]]) -> Balance:
    def better_len(r: dict[str, Any], which: int) -> int:
        good = r["response_1"] if r["label"] == 1 else r["response_2"]
        bad = r["response_2"] if r["label"] == 1 else r["response_1"]
        return len(good) - len(bad) if which else 0

    n = len(recs)
    share: Callable[[Callable[[dict[str, Any]], bool]], float] = lambda f: sum(map(f, recs)) / n if n else 0.0  # noqa: E731
    return Balance(
        n,
        share(lambda r: r["label"] == 1),
        share(lambda r: better_len(r, 1) > 0),
        share(lambda r: better_len(r, 1) == 0),
    )


def balance_table(by_split: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{split: {"all" | family: Balance as a dict}}."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for split, recs in by_split.items():
        out[split] = {"all": asdict(balance(recs))}
        for family in sorted({r["subset"] for r in recs}):
            out[split][family] = asdict(balance([r for r in recs if r["subset"] == family]))
    return out


def parse_families(text: str | None) -> list[str]:
    """``--families a,b`` (default: all), each checked."""
    if not text:
        return list(FAMILIES)
    names = [t.strip() for t in text.split(",") if t.strip()]
    for name in names:
        if name not in FAMILIES:
            raise InputError(f"unknown family {name!r} (known: {', '.join(FAMILIES)})", field="--families")
    return names


def build_verifiable(args: argparse.Namespace) -> int:
    """Write the three splits and the manifest; print the balance per split."""
    for flag in ("prompts", "generator"):
        if getattr(args, flag, None):
            raise InputError(f"--recipe verifiable takes no --{flag} (its pairs come from the shipped lists)")
    families = parse_families(getattr(args, "families", None))
    recs = records(make_pairs(args.seed, families), args.seed)
    out = Path(args.out)
    by_split = {s: [r for r in recs if r["provenance"]["split"] == s] for s in SPLITS}
    for split, rows in by_split.items():
        (out / split).mkdir(parents=True, exist_ok=True)
        write_jsonl(out / split / PAIRS_FILE, rows)
    table = balance_table(by_split)
    manifest = {
        "command": ["python", "-m", "j1train", *sys.argv[1:]],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "recipe": "verifiable",
        "seed": args.seed,
        "families": families,
        "fractions": dict(zip(SPLITS, FRACTIONS, strict=True)),
        "counts": {s: len(r) for s, r in by_split.items()},
        "balance": table,
        "note": "first: better response in slot 1; longer: better response strictly longer; equal: same length",
    }
    write_json(out / MANIFEST_FILE, manifest)
    print(f"{'split':<11} {'family':<11} {'pairs':>5} {'first':>6} {'longer':>7} {'equal':>6}")
    for split in SPLITS:
        for family, b in table[split].items():
            print(f"{split:<11} {family:<11} {b['n']:>5} {100 * b['first']:>6.1f} {100 * b['longer']:>7.1f} "
                  f"{100 * b['equal']:>6.1f}")  # fmt: skip
    print("first: better response in slot 1; longer: better response strictly longer; equal: same length (%)")
    print(f"wrote {', '.join(str(out / s / PAIRS_FILE) for s in SPLITS)} and {out / MANIFEST_FILE}")
    return 0
