"""``--bench pairs``: j1eval judges the pair builder's output (and any file in the pair model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer
from test_j1train_builder import PROMPTS, build, flags, generator, read_pairs, write_prompts

from j1eval.benchmarks import BENCHMARKS, get_benchmark
from j1eval.cli import main as j1eval_main
from j1eval.judging.jobs import expand_benches


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The builder's output folder: 4 noisy pairs made with a local OpenAI-compatible server."""
    tmp = tmp_path_factory.mktemp("built")
    source = write_prompts(tmp / "prompts.jsonl", PROMPTS[:4])
    with FakeOpenAIServer(generator, model="gen") as server:
        assert build(flags(source, tmp / "out", server.url, "--seed", "1")) == 0
    return tmp / "out"


def test_the_longer_baseline_judges_built_pairs_in_both_orders(built: Path, tmp_path: Path, capsys) -> None:
    records = read_pairs(built)
    argv = ["run", "--judge", "longer", "--bench", "pairs", "--data-dir", str(built), "--out", str(tmp_path / "run")]
    assert j1eval_main([*argv, "--no-progress"]) == 0
    judgments = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert sorted((j["pair_id"], j["order"]) for j in judgments) == sorted(
        (r["pair_id"], o) for r in records for o in ("ab", "ba")
    )
    # `longer` picks the longer response in both orders: correct in both exactly when the chosen one is longer
    chosen = [r["response_1"] if r["label"] == 1 else r["response_2"] for r in records]
    rejected = [r["response_2"] if r["label"] == 1 else r["response_1"] for r in records]
    expected = sum(len(c) > len(r) for c, r in zip(chosen, rejected, strict=True)) / len(records)
    overall = json.loads((tmp_path / "run" / "results.json").read_text())["pairs"]["overall"]
    assert overall["n_pairs"] == len(records) == 4
    assert overall["j1"] == overall["official"] == overall["acc_consistent"] == pytest.approx(expected)
    assert overall["flip_rate"] == 0.0  # a length rule never depends on the order
    capsys.readouterr()
    assert j1eval_main(["report", str(tmp_path / "run")]) == 0
    assert "| pairs | longer |" in capsys.readouterr().out


def test_provenance_is_kept_and_a_pairs_folder_is_read(built: Path, tmp_path: Path) -> None:
    data = get_benchmark("pairs").load(built)
    assert [p.pair_id for p in data.pairs] == [r["pair_id"] for r in read_pairs(built)]
    assert all(p.subset == "noisy" and p.meta["provenance"]["generator"] == "openai:gen" for p in data.pairs)
    folder = tmp_path / "pairs"
    folder.mkdir()
    lines = (built / "pairs.jsonl").read_text().splitlines()
    (folder / "a.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({**json.loads(lines[2]), "subset": None}) + "\n")
    data = get_benchmark("pairs").load(tmp_path)
    assert len(data.pairs) == 3 and len(data.files) == 2 and data.pairs[2].subset == "pairs"


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: {k: v for k, v in r.items() if k != "response_2"}, "record line 2, field 'response_2': missing"),
        (lambda r: {**r, "label": 3}, "record line 2, field 'label': expected 1 or 2, got 3"),
        (lambda r: {**r, "label": "A>B"}, "record line 2, field 'label': expected int, got str"),
        (lambda r: {**r, "pair_id": "dup"}, "record line 2, field 'pair_id': duplicate pair id 'dup'"),
    ],
)
def test_a_bad_record_is_one_line_naming_file_record_and_field(tmp_path: Path, capsys, edit, words) -> None:
    good = {"pair_id": "dup", "prompt": "q", "response_1": "a", "response_2": "b", "label": 1}
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(edit({**good, "pair_id": "p2"})) + "\n")
    argv = ["run", "--judge", "longer", "--bench", "pairs", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")]
    assert j1eval_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}") and words in err
    assert not (tmp_path / "r" / "judgments.jsonl").exists()


def test_pairs_is_named_not_part_of_all(tmp_path: Path, capsys) -> None:
    assert "pairs" in BENCHMARKS and "pairs" not in expand_benches(["all"])
    assert expand_benches(["judgebench,pairs"]) == ["judgebench", "pairs"]
    assert get_benchmark("pairs").j1_protocol == "consistent"
    argv = ["run", "--judge", "longer", "--bench", "pairs", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")]
    assert j1eval_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "put pairs.jsonl" in err and "j1train data" in err
