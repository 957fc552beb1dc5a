"""Training pairs, and the rows GRPO trains on.

Sources (``train_pairs`` in the config):

* a local ``.jsonl`` / ``.json`` / ``.parquet`` file: ``prompt``, ``response_1``, ``response_2``,
  ``label`` (1 or 2), optional ``pair_id`` (default ``row-N``); or ``prompt``, ``chosen``,
  ``rejected`` (chosen becomes response 1, label 1: both orders are trained anyway);
* ``bench:NAME``: any j1eval benchmark loader (``subsets`` keeps only those subsets);
* ``ste:PATH``: J1's Self-Taught-Evaluator data through :func:`j1train.ste.load_ste_pairs`.

Rows: a pairwise format gives each pair two rows, order "ab" then "ba" (J1: "for the same
input, we process both orders of responses in one batch"); the pointwise format gives two
rows, one per response (part 0 = response 1 in slot A, part 1 = response 2). ``orders: single``
keeps one order per pair, chosen by a seeded hash of its id (J1 Table 5's single-order
baseline). The rows of a pair are adjacent, and :mod:`j1train.sampler` keeps them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from j1eval.benchmarks._sources import UniqueIds, field, id_text, read_records
from j1eval.errors import InputError
from j1eval.formats.base import Format
from j1eval.orders import TRAINING_SALT, single_order
from j1eval.types import ORDERS, Pair

#: Columns of a training row besides ``prompt`` (the reward functions get them as kwargs).
ROW_COLUMNS = ("pair_id", "order", "part", "label", "judge_format", "max_completion_length")


def load_training_pairs(
    source: str,
    subsets: Iterable[str] | None = None,
    limit: int | None = None,
    data_dir: str | Path | None = None,
) -> list[Pair]:
    """The pairs named by ``source`` (see the module docstring), filtered and cut to ``limit``."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"limit must be a whole number of at least 1, got {limit!r}", field="limit")
    if source.startswith("bench:"):
        pairs = _bench_pairs(source.removeprefix("bench:"), data_dir)
    elif source.startswith("ste:"):
        from j1train.ste import load_ste_pairs

        pairs = load_ste_pairs(source.removeprefix("ste:"))
    else:
        pairs = read_pair_file(Path(source))
    if subsets:
        wanted = set(subsets)
        known = {p.subset for p in pairs}
        unknown = sorted(wanted - known)
        if unknown:
            raise InputError(
                f"subset {unknown[0]!r} not in the data (subsets: {', '.join(sorted(known))})",
                path=source,
                field="subsets",
            )
        pairs = [p for p in pairs if p.subset in wanted]
    if source.startswith(("bench:", "ste:")):
        pairs = _drop_degenerate(pairs, source)
    if not pairs:
        raise InputError("no training pairs", path=source)
    return pairs[:limit] if limit is not None else pairs


def degenerate(pair: Pair) -> str | None:
    """Why a pair teaches nothing (an empty prompt or response, two identical responses), or None.

    Such a pair has no right verdict: its label would reward an arbitrary slot, which is
    position bias, not judgment.
    """
    for name, text in (("prompt", pair.prompt), ("response_1", pair.response_1), ("response_2", pair.response_2)):
        if not str(text).strip():
            return f"{name}: empty"
    if str(pair.response_1).strip() == str(pair.response_2).strip():
        return "response_1 and response_2: identical, so neither is better"
    return None


def _drop_degenerate(pairs: list[Pair], source: str) -> list[Pair]:
    """A benchmark's or STE's pairs without the degenerate ones (third-party data: dropped, with a count)."""
    kept = [p for p in pairs if degenerate(p) is None]
    if len(kept) < len(pairs):
        print(
            f"note: {source}: dropped {len(pairs) - len(kept)} pairs with an empty prompt or response, or two "
            "identical responses (no right verdict)"
        )
    return kept


def _bench_pairs(name: str, data_dir: str | Path | None) -> list[Pair]:
    from j1eval.benchmarks import BENCHMARKS, get_benchmark, resolve_data_dir

    if name not in BENCHMARKS.names():
        raise InputError(f"unknown benchmark {name!r} (known: {', '.join(BENCHMARKS.names())})", field="train_pairs")
    return list(get_benchmark(name).load(resolve_data_dir(data_dir)).pairs)


def read_pair_file(path: Path) -> list[Pair]:
    """Pairs from a local file; a bad record is one :class:`InputError` naming file, record and field."""
    if not path.exists():
        raise InputError("training pairs file not found", path=path)
    if not path.is_file():
        raise InputError("not a regular file (a folder, FIFO or device)", path=path)
    ids = UniqueIds()
    pairs: list[Pair] = []
    for loc, rec in read_records(path):
        pair_id = id_text(rec, "pair_id", path, loc) if rec.get("pair_id") is not None else f"row-{len(pairs)}"
        ids.add(pair_id, path, loc)
        prompt = field(rec, "prompt", path, loc)
        if "response_1" in rec or "chosen" not in rec:
            first = field(rec, "response_1", path, loc)
            second = field(rec, "response_2", path, loc)
            label = field(rec, "label", path, loc, int)
            if label not in (1, 2):
                raise InputError(f"expected 1 or 2, got {label!r}", path=path, record=loc, field="label")
        else:
            first, second, label = field(rec, "chosen", path, loc), field(rec, "rejected", path, loc), 1
        meta = {k: v for k, v in rec.items() if k not in {"pair_id", "prompt", "response_1", "response_2", "label"}}
        subset = str(rec.get("subset") or "train")
        pair = Pair(pair_id, "train", subset, prompt, first, second, label, meta)
        why = degenerate(pair)
        if why is not None:  # the user's own file: refused, so it can be fixed
            name, _, message = why.partition(": ")
            raise InputError(
                f"{message}: a training pair needs a prompt and two different responses",
                path=path,
                record=loc,
                field=name,
            )
        pairs.append(pair)
    return pairs


def pair_rows(
    pair: Pair, fmt: Format, max_completion_length: int, orders: str = "both", seed: int = 0
) -> list[dict[str, Any]]:
    """The training rows of one pair: both orders (or one seeded order), or both responses (pointwise)."""
    base = {"pair_id": pair.pair_id, "label": pair.label, "judge_format": fmt.name}
    base["max_completion_length"] = max_completion_length
    if fmt.pointwise:
        prompts = fmt.prompts(pair, "ab")
        return [{"prompt": messages(p.messages), **base, "order": "ab", "part": k} for k, p in enumerate(prompts)]
    rows = []
    for order in ORDERS if orders == "both" else (single_order(pair.pair_id, seed, salt=TRAINING_SALT),):
        (prompt,) = fmt.prompts(pair, order)
        rows.append({"prompt": messages(prompt.messages), **base, "order": order, "part": 0})
    return rows


def messages(msgs: Iterable[Any]) -> list[dict[str, str]]:
    """Chat messages as plain dicts (a trailing assistant message is a prefill TRL continues)."""
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in msgs]


def build_rows(
    pairs: Iterable[Pair],
    fmt: Format,
    max_completion_length: int,
    prompt_length: Callable[[list[dict[str, str]]], int] | None = None,
    max_prompt_length: int | None = None,
    orders: str = "both",
    seed: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """All rows, pair by pair, and how many pairs were dropped for a prompt over ``max_prompt_length``."""
    rows: list[dict[str, Any]] = []
    dropped = 0
    for pair in pairs:
        these = pair_rows(pair, fmt, max_completion_length, orders, seed)
        too_long = prompt_length is not None and max_prompt_length is not None
        if too_long and any(prompt_length(r["prompt"]) > max_prompt_length for r in these):  # type: ignore[misc]
            dropped += 1
            continue
        rows.extend(these)
    return rows, dropped


def rows_per_pair(fmt: Format, orders: str = "both") -> int:
    """Rows one pair gives: 2 (two orders, or two responses for pointwise), 1 under ``orders: single``."""
    return 1 if orders == "single" and not fmt.pointwise else 2
