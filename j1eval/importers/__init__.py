"""Judgments other projects release, in their own layout, as j1eval judgments (``score --import NAME``).

One module per source, one line in ``IMPORTERS``. An importer maps each record of a file to
j1eval judgment records (``pair_id``, ``order``, ``verdict``, optional ``failure``, ``scores``)
and names every record it cannot map (:class:`Problem`: record, field, why). The mapped rows
then go through the scorer's own row checks, so an imported file is scored exactly as the
same verdicts given as j1eval JSONL. A file with any record that cannot be mapped is refused
with one line that counts them and names the first: none is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from j1eval.errors import InputError
from j1eval.registry import Registry
from j1eval.types import Pair


@dataclass(frozen=True)
class Problem:
    """A record that cannot be mapped: where it is (``line 7``, ``index 3``), the field, and why."""

    record: str
    field: str
    message: str


@dataclass
class Mapped:
    """What an importer read: (record, j1eval judgment record) rows, the problems, and notes for the user."""

    n_records: int = 0
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Importer:
    """Base class: ``bench`` is the j1eval benchmark the source's files judge; ``read`` maps one file."""

    name: ClassVar[str] = ""
    bench: ClassVar[str] = ""
    source: ClassVar[str] = ""  # where the layout is defined (repository and file), for the docs

    def read(self, path: Path, pairs: Mapping[str, Pair], seed: int) -> Mapped:
        raise NotImplementedError


#: source name -> the module that registers its importer.
IMPORTERS: Registry[type[Importer]] = Registry(
    "importer",
    {
        "judgebench": "j1eval.importers.judgebench",
        "rewardbench": "j1eval.importers.rewardbench",
    },
)


def importer(name: str):
    """Class decorator: register an :class:`Importer` subclass under ``name``."""

    def decorator(cls: type[Importer]) -> type[Importer]:
        cls.name = name
        return IMPORTERS.register(name)(cls)

    return decorator


def import_bench(name: str, bench: str | None = None) -> str:
    """The benchmark whose pairs the files of source ``name`` judge; ``bench``, when given, must be it."""
    own = IMPORTERS.get(name).bench
    if bench is not None and bench != own:
        raise InputError(f"--import {name} reads judgments of the {own} benchmark, not {bench!r}: --bench {own}")
    return own


def import_judgments(
    name: str, path: Path, pairs: Mapping[str, Pair], *, bench: str, seed: int = 0
) -> tuple[pd.DataFrame, list[str]]:
    """The scoring rows of a file in source ``name``'s layout, and notes on how it was read.

    ``pairs`` are the benchmark's pairs by id. Raises :class:`InputError` (one line: the file,
    how many records cannot be mapped, the first one's record and field) if any cannot be.
    """
    from j1eval.store.records import validate_row

    import_bench(name, bench)
    cls = IMPORTERS.get(name)
    path = Path(path)
    mapped = cls().read(path, pairs, seed)
    problems = list(mapped.problems)
    seen: dict[tuple[str, str, int], str] = {}
    for record, row in mapped.rows:
        if row["pair_id"] not in pairs:
            problems.append(Problem(record, "pair_id", f"pair {row['pair_id']!r} is not in the {bench} data"))
            continue
        key = (row["pair_id"], row["order"], row.get("sample", 0))
        if key in seen and seen[key] != record:
            problems.append(Problem(record, "pair_id", f"pair {row['pair_id']!r} judged again (first at {seen[key]})"))
        seen.setdefault(key, record)
    if problems:
        first = problems[0]
        count = len({p.record for p in problems})
        others = sorted({p.record for p in problems} - {first.record}, key=_place)[:3]
        more = f"; also {', '.join(others)}{' ...' if count > 4 else ''}" if others else ""
        raise InputError(
            f"{count} of {mapped.n_records} records cannot be mapped to j1eval judgments; "
            f"this one: {first.message}{more}",
            path=path,
            record=first.record,
            field=first.field,
        )
    if not mapped.rows:
        raise InputError(f"no judgments in the {name} layout", path=path)
    known = set(pairs)
    rows = [validate_row(row, known, {"path": path, "record": record}) for record, row in mapped.rows]
    return pd.DataFrame(rows), mapped.notes


def _place(record: str) -> int:
    tail = record.split()[-1]
    return int(tail) if tail.isdigit() else 0


__all__ = ["IMPORTERS", "Importer", "Mapped", "Problem", "import_bench", "import_judgments", "importer"]
