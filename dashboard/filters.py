"""Filters of the pair browser: each a vectorised boolean mask over a pair table
(:mod:`dashboard.data`), combined with AND; free text is a case-insensitive literal search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TEXT_COLUMNS = ("prompt", "response_1", "response_2", "output_ab", "output_ba")


@dataclass(frozen=True)
class Filters:
    subsets: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    flip: str = "any"  # any | flipped | not flipped
    tie: str = "any"  # any | a tie | no tie
    failures: tuple[str, ...] = ()  # failure classes; a pair matches when either order has one of them
    slot_a: tuple[str, ...] = ()  # orders whose verdict is slot A: both | one | neither
    text: str = ""


def text_mask(table: pd.DataFrame, text: str, columns: tuple[str, ...] = TEXT_COLUMNS) -> np.ndarray:
    """Rows whose ``columns`` contain ``text`` (case-insensitive, literal)."""
    mask = np.zeros(len(table), dtype=bool)
    for col in columns:
        if col in table.columns:
            mask |= table[col].str.contains(text, case=False, regex=False).fillna(False).to_numpy(bool)
    return mask


def filter_mask(table: pd.DataFrame, f: Filters, others: tuple[pd.DataFrame, ...] = ()) -> np.ndarray:
    """The rows of ``table`` matching every filter; free text also matches the outputs in ``others``."""
    mask = np.ones(len(table), dtype=bool)
    if f.subsets:
        mask &= table["subset"].isin(f.subsets).to_numpy()
    if f.outcomes:
        mask &= table["outcome"].isin(f.outcomes).to_numpy()
    if f.flip != "any":
        mask &= table["flip"].to_numpy(bool) == (f.flip == "flipped")
    if f.tie != "any":
        mask &= table["tie"].to_numpy(bool) == (f.tie == "a tie")
    if f.failures:
        mask &= (table["failure_ab"].isin(f.failures) | table["failure_ba"].isin(f.failures)).to_numpy()
    if f.slot_a:
        wanted = [{"both": 2, "one": 1, "neither": 0}[s] for s in f.slot_a]
        mask &= table["slot_a"].isin(wanted).to_numpy()
    if f.text.strip():
        needle = f.text.strip()
        hit = text_mask(table, needle)
        for other in others:
            ids = other["pair_id"][text_mask(other, needle, ("output_ab", "output_ba"))]
            hit |= table["pair_id"].isin(ids).to_numpy()
        mask &= hit
    return mask
