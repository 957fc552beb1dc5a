"""Which orders a pair is judged in, and which one is its single order; a best-of-k item's rotations.

A pair has two orders (``j1eval.types.ORDERS``): "ab" shows ``response_1`` in slot A, "ba" shows
``response_2`` there. J1's single-order protocol judges one of them, drawn per pair by a seeded hash
(``ORDER_RULE``); PPE keeps the dataset's order instead (a benchmark's ``single_order = "dataset"``).

A best-of-k benchmark (``Benchmark.kway = k``; RewardBench 2: the chosen response and three
rejected) is judged by a k-way format as *items*, one per prompt, in ``k`` cyclic *rotations*
named ``r0`` ... ``r{k-1}``: they take the place of a pair's two orders in jobs, the store and
the scorer. The item's base sequence is the chosen response, then the rejected ones in a seeded
order (``ROTATION_RULE``); rotation ``r`` shows in slot ``s`` the base response ``(s - r) mod k``,
so the correct response sits in slot ``r`` and every response visits every slot once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from j1eval.errors import InputError
from j1eval.types import ORDERS, Order, Pair

ORDER_RULE = "single order = 'ab' if sha256(f'{seed}:{pair_id}')[0] is even, else 'ba'; ppe: 'ab' (the file's order)"
ORDER_MODES = ("both", "single", "ab", "ba")
#: The salt of training's single order (j1train ``orders: single``). It differs from evaluation's on
#: purpose: a pairs file is both a training set and a j1eval benchmark input, and with one salt a judge
#: trained on one order per pair would be evaluated under ``--order single`` in exactly that order.
TRAINING_SALT = "order"


def single_order(pair_id: str, seed: int, *, salt: str = "") -> Order:
    """A pair's single order: a seeded hash of its id, stable across runs and machines.

    J1's evaluation protocol uses no salt (``ORDER_RULE``); training passes ``TRAINING_SALT``.
    """
    text = f"{salt}:{seed}:{pair_id}" if salt else f"{seed}:{pair_id}"
    return ORDERS[hashlib.sha256(text.encode()).digest()[0] % 2]


def single_order_by_rule(pair_id: str, seed: int, rule: str = "seeded") -> Order:
    """The single order under a benchmark's ``single_order`` rule: "dataset" is the file's order ("ab")."""
    return "ab" if rule == "dataset" else single_order(pair_id, seed)


def orders_for(pair_id: str, mode: str, seed: int, rule: str = "seeded") -> tuple[Order, ...]:
    """The orders judged for a pair; ``rule`` is the benchmark's ``single_order`` ("seeded" or "dataset")."""
    if mode == "both":
        return ORDERS
    if mode == "single":
        return (single_order_by_rule(pair_id, seed, rule),)
    if mode in ORDERS:
        return (mode,)  # type: ignore[return-value]
    raise InputError(f"--order must be one of {', '.join(ORDER_MODES)}, got {mode!r}")


K = 4
LETTERS = ("A", "B", "C", "D")
ROTATIONS = tuple(f"r{r}" for r in range(K))
ROTATION_RULE = (
    "base = [chosen] + rejected sorted by sha256(f'{seed}:{prompt_id}:{j}'); rotation r shows base[(s - r) % 4] "
    "in slot s (the chosen response in slot r); --order single: rotation int(sha256(f'{seed}:{prompt_id}'), 16) % 4"
)


def is_rotation(order: object) -> bool:
    """Whether ``order`` names a k-way rotation (``r0``-``r3``) rather than a pair's order."""
    return isinstance(order, str) and order in ROTATIONS


def rotation_index(order: str) -> int:
    return ROTATIONS.index(order)


def slots(item: Pair, order: str) -> list[str]:
    """The responses shown in slots A-D under rotation ``order``."""
    base, r = item.meta["responses"], rotation_index(order)
    return [base[(s - r) % K] for s in range(K)]


def single_rotation(item_id: str, seed: int) -> str:
    """The one seeded rotation of an item (``--order single``)."""
    return ROTATIONS[int(hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest(), 16) % K]


def rotations_for(item_id: str, mode: str, seed: int) -> tuple[str, ...]:
    """The rotations judged for an item: all ``k`` (``--order both``) or its seeded one (``single``)."""
    if mode == "both":
        return ROTATIONS
    if mode == "single":
        return (single_rotation(item_id, seed),)
    raise InputError(f"--order {mode}: a 4-way format judges rotations; use --order both (all 4) or single")


def kway_items(pairs: Sequence[Pair], seed: int) -> list[Pair]:
    """One item per prompt with a chosen and three rejected responses, its base sequence seeded.

    Built from the pairs' ``meta`` (``prompt_id``, ``responses``, ``n_correct``); prompts with
    several correct answers (Ties) are not best-of-k and are left out.
    """
    items: dict[str, Pair] = {}
    for pair in pairs:
        pid, responses = pair.meta.get("prompt_id"), pair.meta.get("responses")
        if pid in items or responses is None or pair.meta.get("n_correct") != 1 or len(responses) != K:
            continue
        rejected = sorted(range(1, K), key=lambda j: hashlib.sha256(f"{seed}:{pid}:{j}".encode()).hexdigest())
        base = (responses[0], *(responses[j] for j in rejected))
        meta = {"prompt_id": pid, "responses": base, "base_order": [0, *rejected]}
        items[pid] = Pair(pid, pair.bench, pair.subset, pair.prompt, base[0], base[1], 1, meta)
    return list(items.values())
