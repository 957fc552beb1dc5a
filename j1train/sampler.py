"""A pair-aware replacement for TRL's ``RepeatSampler``.

TRL's sampler shuffles single rows, and accelerate hands each process a contiguous
slice of every global generation batch (process p gets rows ``[p*L, (p+1)*L)``, L =
``per_device_train_batch_size * steps_per_generation``). A reward function sees only its
own process's slice. :class:`PairRepeatSampler` shuffles *pairs* instead: a pair's rows
(both orders, or both responses for pointwise), each repeated ``num_generations`` times in
a row, are yielded together, and every slice of L rows holds whole pairs when L is a
multiple of ``rows_per_pair * num_generations`` (:func:`check_batch_sizes`). So both
orders of every pair, with all their rollouts, are on the same process in the same
generation batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Sampler

from j1eval.errors import InputError


@dataclass(frozen=True)
class BatchPlan:
    """The sizes that decide how pairs fall into generation batches."""

    per_device_batch: int  # completions per device per optimisation step
    steps_per_generation: int
    num_processes: int
    num_generations: int
    rows_per_pair: int = 2

    @property
    def unit(self) -> int:
        """Completions of one pair: its rows times the rollouts of each."""
        return self.rows_per_pair * self.num_generations

    @property
    def local_generation_batch(self) -> int:
        return self.per_device_batch * self.steps_per_generation

    @property
    def pairs_per_process(self) -> int:
        return self.local_generation_batch // self.unit

    @property
    def pairs_per_generation(self) -> int:
        return self.pairs_per_process * self.num_processes


def check_batch_sizes(plan: BatchPlan, n_pairs: int | None = None, source: object = None) -> None:
    """A clear :class:`InputError` unless every process's generation batch holds whole pairs."""
    local = plan.local_generation_batch
    if local % plan.unit != 0 or local == 0:
        fix = max(plan.unit, (local // plan.unit + 1) * plan.unit) // max(1, plan.steps_per_generation)
        raise InputError(
            f"a per-process generation batch of {local} completions (per_device_train_batch_size "
            f"{plan.per_device_batch} x steps_per_generation {plan.steps_per_generation}) cannot hold whole pairs: "
            f"one pair is {plan.rows_per_pair} prompts x {plan.num_generations} rollouts = {plan.unit} completions; "
            f"make it a multiple of {plan.unit} (e.g. per_device_train_batch_size {fix})",
            path=source,
            field="per_device_train_batch_size",
        )
    if n_pairs is not None and n_pairs < plan.pairs_per_generation:
        raise InputError(
            f"{n_pairs} training pairs cannot fill one generation batch of {plan.pairs_per_generation} pairs "
            f"({plan.num_processes} process(es) x {plan.pairs_per_process}); lower the batch size or add pairs",
            path=source,
            field="train_pairs",
        )


def pair_units(pair_ids: Sequence[str]) -> list[list[int]]:
    """Row indices grouped by pair, in first-seen order (the rows of a pair need not be adjacent)."""
    groups: dict[str, list[int]] = {}
    for i, pid in enumerate(pair_ids):
        groups.setdefault(str(pid), []).append(i)
    return list(groups.values())


class PairRepeatSampler(Sampler[int]):
    """``RepeatSampler`` over pairs: shuffle pairs, keep each pair's rows and rollouts together.

    ``pairs_per_batch`` pairs make one global generation batch; each batch is yielded
    ``repeat_count`` times (TRL reuses a generation for ``steps_per_generation x
    num_iterations`` steps). Train: incomplete last batches are dropped, as TRL does.
    Eval (``pad=True``): the last batch is filled with pairs from the start so no pair is cut.
    """

    def __init__(
        self,
        pair_ids: Sequence[str],
        mini_repeat_count: int,
        pairs_per_batch: int,
        repeat_count: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        pad: bool = False,
    ) -> None:
        self.units = pair_units(pair_ids)
        sizes = {len(u) for u in self.units}
        if len(sizes) > 1:
            raise ValueError(f"every pair must have the same number of rows, got {sorted(sizes)}")
        self.mini_repeat_count = mini_repeat_count
        self.pairs_per_batch = max(1, pairs_per_batch)
        self.repeat_count = repeat_count
        self.shuffle = shuffle
        self.pad = pad
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)

    def _batches(self) -> list[list[list[int]]]:
        n = len(self.units)
        perm = torch.randperm(n, generator=self.generator).tolist() if self.shuffle else list(range(n))
        units = [self.units[i] for i in perm]
        k = self.pairs_per_batch
        if self.pad and n and n % k:
            units += [units[i % n] for i in range(k - n % k)]
        return [units[i : i + k] for i in range(0, len(units), k) if len(units[i : i + k]) == k]

    def __iter__(self) -> Iterator[int]:
        for batch in self._batches():
            for _ in range(self.repeat_count):
                for unit in batch:
                    for row in unit:
                        for _ in range(self.mini_repeat_count):
                            yield row

    def __len__(self) -> int:
        n = len(self.units)
        k = self.pairs_per_batch
        batches = (n + k - 1) // k if self.pad else n // k
        rows = len(self.units[0]) if self.units else 0
        return batches * k * rows * self.mini_repeat_count * self.repeat_count
