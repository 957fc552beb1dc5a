"""Reports of runs with P(slot A): the probability columns of the position-bias table and the probability plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require
from openai_server import FakeOpenAIServer
from test_direct_http import continuation, first_logprobs

from j1eval.cli import main
from j1eval.judging.config import RunConfig
from j1eval.judging.jobs import select_pairs
from j1eval.judging.runner import run
from j1eval.report import BIAS_COLUMNS, PROBABILITY_COLUMNS, build_tables, load_report


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """The real data (module scope: the runs below are made once for all tests)."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    return SHARED_DATA


@pytest.fixture(scope="module")
def prob_runs(tmp_path_factory, data_dir) -> dict[str, Path]:
    out = {}
    for judge in ("first", "longer"):
        folder = tmp_path_factory.mktemp(judge)
        run(RunConfig(judge=judge, benches=["judgebench"], data_dir=data_dir, sample=30, out=folder, progress=False))
        out[judge] = folder
    folder = tmp_path_factory.mktemp("model")
    with FakeOpenAIServer(continuation, model="judge", owned_by="vllm", first_logprobs=first_logprobs) as server:
        config = RunConfig(
            judge=f"openai:judge@{server.url}",
            benches=["judgebench"],
            data_dir=data_dir,
            sample=30,
            format="direct-verdict",
            out=folder,
            progress=False,
        )
        run(config)
    out["model"] = folder
    return out


def overall(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())["judgebench"]["overall"]


def test_probability_columns_are_the_scorers_figures(prob_runs):
    report = load_report([prob_runs["first"], prob_runs["longer"], prob_runs["model"]])
    bias = next(t for t in build_tables(report) if t.key == "position_bias")
    columns = BIAS_COLUMNS + PROBABILITY_COLUMNS
    assert bias.columns[: len(columns)] == [title for title, _ in columns]
    for name, judge in (("first", "first"), ("longer", "longer"), ("model", "openai:judge [direct-verdict]")):
        figs = overall(prob_runs[name])
        row = next(r for r in bias.rows if r.labels == ["JudgeBench", judge])
        for title, key in PROBABILITY_COLUMNS:
            cell = row.cells[columns.index((title, key))]
            assert cell.value == pytest.approx(100 * figs[key], abs=0.01), (judge, key)
    first = next(r for r in bias.rows if r.labels == ["JudgeBench", "first"])
    assert first.cells[columns.index(("order shift", "order_shift"))].text == "100.0‡"
    assert first.cells[columns.index(("mean P(A)", "mean_p_a"))].text == "100.0‡"
    assert any("order shift = mean over pairs" in n for n in bias.notes)
    assert any("seeded sample of 30 of 350 pairs (--sample, seed 0)" in n for n in bias.notes)


def test_probability_plot_is_drawn_for_model_probabilities_only(prob_runs, tmp_path, capsys):
    import matplotlib.image as mpimg

    out = tmp_path / "with-model"
    assert main(["report", str(prob_runs["first"]), str(prob_runs["model"]), "--out", str(out)]) == 0
    png = out / "plots" / "probability_by_order.png"
    assert png.stat().st_size > 5000 and (out / "plots" / "probability_by_order.pdf").read_bytes()[:5] == b"%PDF-"
    assert float(np.var(mpimg.imread(png)[..., :3])) > 1e-3
    baselines = tmp_path / "baselines"
    assert main(["report", str(prob_runs["first"]), str(prob_runs["longer"]), "--out", str(baselines)]) == 0
    assert not (baselines / "plots" / "probability_by_order.png").exists()
    assert "probability plot skipped" in capsys.readouterr().err


def test_a_sample_is_seeded_spread_and_grows_by_adding_pairs(data_dir):
    from j1eval.benchmarks import get_benchmark

    pairs = get_benchmark("rewardbench").load(data_dir).pairs
    small, large = select_pairs(pairs, None, 50, 0), select_pairs(pairs, None, 200, 0)
    assert len(small) == 50 and {p.pair_id for p in small} < {p.pair_id for p in large}
    assert select_pairs(pairs, None, 50, 0) == small and select_pairs(pairs, None, 50, 1) != small
    assert len({p.subset for p in large}) > 10  # across the benchmark, not its first subset
    order = [p.pair_id for p in pairs]
    assert [order.index(p.pair_id) for p in small] == sorted(order.index(p.pair_id) for p in small)


def test_limit_and_sample_together_is_one_clear_line(data_dir, capsys):
    code = main(["run", "--judge", "first", "--bench", "judgebench", "--limit", "3", "--sample", "3",
                 "--data-dir", str(data_dir), "--out", "/nonexistent/x"])  # fmt: skip
    assert code == 2
    assert (
        capsys.readouterr().err.strip() == "error: --limit and --sample pick pairs in different ways: give one of them"
    )
