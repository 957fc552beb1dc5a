"""The hand-written fast paths give exactly what the plain code they replace gives (issue #23's speed work).

Each is checked against the plain version on many random inputs: prompt and key hashing texts (a
different character would change every cache key), template filling, the UTF-8 check, Arrow look-ups
and the bootstrap's Poisson weights.
"""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pandas as pd
import pytest

from j1eval.formats._parsing import render
from j1eval.judging.jobs import key_json, messages_json
from j1eval.score.metrics import _poisson_thresholds, poisson_weights
from j1eval.store.columnar import _is_utf8, in_strings

CHARS = ["a", "Z", " ", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "\u2028", "😀", "\ud800", "/", "{", "}"]


def _text(rng: random.Random, most: int = 8) -> str:
    return "".join(rng.choice(CHARS) for _ in range(rng.randrange(most)))


def test_messages_json_is_json_dumps_with_sorted_keys():
    rng = random.Random(0)
    for _ in range(3000):
        messages = [{"role": _text(rng, 4) or "user", "content": _text(rng)} for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.5:
            messages = [dict(reversed(list(m.items()))) for m in messages]
        assert messages_json(messages) == json.dumps(list(messages), sort_keys=True)
    for odd in ([{"role": "user", "content": "x", "name": "n"}], [{"role": "user", "content": 1}], [{"content": "c"}]):
        assert messages_json(odd) == json.dumps(list(odd), sort_keys=True)


def test_key_json_is_json_dumps():
    rng = random.Random(1)
    for _ in range(3000):
        parts = (_text(rng), _text(rng), _text(rng), rng.choice(["ab", "ba", "r2"]), rng.randrange(4))
        hashes = [_text(rng) for _ in range(rng.randrange(3))]
        assert key_json(*parts, hashes) == json.dumps([*parts, hashes])
    for odd in (("i", "b", 7, "ab", 0, ["h"]), ("i", "b", "p", "ab", True, ["h"]), ("i", "b", "p", "ab", 0, ())):
        assert key_json(*odd) == json.dumps([*odd[:5], list(odd[5])])


def _render_by_regex(template: str, **fields: str) -> str:
    pattern = re.compile(r"\{(" + "|".join(re.escape(k) for k in fields) + r")\}")
    return pattern.sub(lambda m: fields[m.group(1)], template.rstrip("\n"))


def test_render_fills_like_one_regex_pass():
    rng = random.Random(2)
    pieces = ["{a}", "{b}", "{a.b}", "{", "}", "{{a}}", "x", "\n", "é"]
    for _ in range(5000):
        template = "".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        fields = {"a": rng.choice(["{b}", "A", "", "\n"]), "b": rng.choice(["{a}", "B"]), "a.b": "D"}
        assert render(template, **fields) == _render_by_regex(template, **fields)


def test_utf8_check_block_by_block_agrees_with_decoding_whole():
    rng = random.Random(3)
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(24)))
        if rng.random() < 0.5:
            data = "é😀a€".encode() * rng.randrange(4) + data[: rng.randrange(3)]
        try:
            data.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        for block in (1, 2, 3, 5, 1 << 24):  # a character cut between blocks is still one character
            assert _is_utf8(data, block) is valid


def test_in_strings_is_isin():
    values = {"a", "c", "é"}
    for column in (
        pd.Series(["a", "b", None, "c", "é"]),
        pd.Series(["a", "b", None, "c"], dtype=object),
        pd.Series([None, None], dtype=object),
        pd.Series([], dtype=object),
    ):
        assert in_strings(column, values).tolist() == column.isin(values).tolist()


def _poisson_by_every_threshold(n_rows: int, n_boot: int, seed: int) -> np.ndarray:
    """The weights as drawn before: each uniform compared with every threshold."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n_boot, n_rows), dtype=np.uint8)
    rows = max(1, (16 << 20) // max(1, n_rows))
    for start in range(0, n_boot, rows):
        u = rng.integers(0, 2**32, size=(min(rows, n_boot - start), n_rows), dtype=np.uint32)
        block = out[start : start + len(u)]
        for threshold in _poisson_thresholds():
            block += u >= threshold
    return out


@pytest.mark.parametrize(("n_rows", "n_boot", "seed"), [(1, 1000, 0), (7, 1000, 3), (5000, 1000, 1), (40000, 500, 2)])
def test_poisson_weights_equal_comparing_every_threshold(n_rows, n_boot, seed):
    got = poisson_weights(n_rows, n_boot, seed)
    assert got.dtype == np.uint8 and got.shape == (n_boot, n_rows)
    assert np.array_equal(got, _poisson_by_every_threshold(n_rows, n_boot, seed))
    assert abs(got.mean() - 1.0) < 4 / got.size**0.5 and got.max() >= 4  # Poisson(1): mean 1 (4 sd), a tail drawn
