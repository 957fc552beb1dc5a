"""j1eval's overhead over the bare model call, on the small real judge (SmolLM2-135M-Instruct).

The same requests, the N shortest RewardBench pairs from ``../shared/data`` (both orders, so 2 N
prompts), go through

* ``j1eval``: ``j1eval.run`` with judge ``smollm2-135m`` into a fresh run folder each time (model
  load, prompts, generation, store, scoring, results.json);
* ``bare``: transformers itself: ``AutoModelForCausalLM.from_pretrained`` in the dtype the j1eval
  backend loaded, the same chat prompts (the requests j1eval handed its backend), left-padded
  batches of the backend's batch size (longest prompts first, as the backend batches), greedy, the
  same ``max_new_tokens`` and end tokens.

Two formats:

* ``pairwise-verdict`` (``--max-tokens`` new tokens, greedy): bare = ``model.generate``; the
  generated texts must be identical;
* ``direct-verdict`` (one forward pass; verdict and P(A) from the next-token probabilities):
  bare = one forward pass per prompt (batched the same way) and the top-20 log-probabilities of
  its last position; the top tokens must agree (largest log-prob difference printed).

Model load is timed apart from generation. For j1eval the backend's construction and its
``generate`` calls inside ``run`` are timed by wrapping the backend class that
``j1eval.backends.get_backend_class("hf")`` returns (nothing else is changed), so

* ``load`` = the backend's construction (tokenizer + weights) vs ``from_pretrained`` of both;
* ``generation`` = ``run``'s wall time less its load, vs the bare generation (or forward) time;
* ``backend.generate`` = the time spent inside the backend's ``generate`` (for reference);
* ``runner alone``: ``j1eval.run`` with the model-free judge ``first`` on the same pairs, the
  runner's fixed cost (prompts, store, scoring, results.json) that ``generation`` includes.

Ratio = j1eval / bare; goal <= 1.05 for generation. The runs are interleaved (j1eval, bare, j1eval,
bare, ...) ``--reps`` times in this one process; min and median are printed, and the generation
ratio three ways: min/min (judged against the goal: the least disturbed by other work on the
machine), median/median, and the median of each repetition's j1eval/bare ratio (adjacent runs).
Where vLLM is installed (its CPU build here), ``run --judge vllm:PATH`` is compared with a bare
``LLM.chat`` of the same messages on the same kept engine (load apart), both formats, and vLLM's
bare time with transformers' bare time on the same prompts (reported, not a goal).

    nice -n 5 .venv/bin/python benchmarks/overhead.py [--pairs 6] [--reps 3] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
GOAL = 1.05
JUDGE = "smollm2-135m"
TOP = 20


def quiet() -> None:
    """No weight-loading progress bars or generation-config warnings in the tables."""
    import warnings

    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="transformers")


def shortest_pairs(folder: Path, n: int) -> Path:
    """Write the ``n`` shortest RewardBench pairs (prompt + both responses, in characters) as ``pairs.jsonl``."""
    import pandas as pd

    frame = pd.read_parquet(DATA / "rewardbench" / "rewardbench_filtered.parquet")
    frame = frame[(frame["response_A"].str.strip() != "") & (frame["response_B"].str.strip() != "")]
    size = frame["question"].str.len() + frame["response_A"].str.len() + frame["response_B"].str.len()
    frame = frame.loc[size.sort_values(kind="stable").index[:n]]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for row in frame.itertuples():
            rec = {"pair_id": f"{row.subset}:{row.id}", "prompt": row.question, "response_1": row.response_A,
                   "response_2": row.response_B, "label": 1, "subset": row.subset}  # fmt: skip
            fh.write(json.dumps(rec) + "\n")
    return folder


@dataclass
class Probe:
    """Times the hf backend's construction and ``generate`` calls inside ``j1eval.run``; keeps what it saw."""

    load_s: float = 0.0
    generate_s: float = 0.0
    requests: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    tops: list[dict[str, float] | None] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def install(self) -> Callable[[], None]:
        """Wrap the registered backend class's ``__init__`` and ``generate``; returns the undo."""
        from j1eval.backends import get_backend_class

        cls = get_backend_class("hf")
        init, generate = cls.__init__, cls.generate
        probe = self

        def timed_init(self: Any, *args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            init(self, *args, **kwargs)
            probe.load_s += time.perf_counter() - start
            lm = getattr(self, "lm", None)
            probe.info = {"path": getattr(self, "path", None), "batch_size": getattr(self, "batch_size", None),
                          "dtype": getattr(lm, "dtype", None), "eos_ids": getattr(self, "eos_ids", None),
                          "pad_id": getattr(self, "pad_id", None)}  # fmt: skip

        def timed_generate(self: Any, requests: Sequence[Any], *args: Any, **kwargs: Any) -> list[list[Any]]:
            start = time.perf_counter()
            out = generate(self, requests, *args, **kwargs)
            probe.generate_s += time.perf_counter() - start
            probe.requests += list(requests)
            probe.texts += [c[0].text for c in out]
            probe.tops += [c[0].top_logprobs for c in out]
            return out

        cls.__init__, cls.generate = timed_init, timed_generate  # type: ignore[method-assign]

        def undo() -> None:
            cls.__init__, cls.generate = init, generate  # type: ignore[method-assign]

        return undo


def j1eval_once(data: Path, out: Path, fmt: str, max_tokens: int | None, judge: str = JUDGE) -> tuple[float, Probe]:
    """Wall seconds of one ``j1eval.run`` into the fresh folder ``out``, and its probe."""
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    probe = Probe()
    undo = probe.install()
    try:
        config = RunConfig(judge=judge, benches=["pairs"], data_dir=data, out=out, format=fmt,
                           max_tokens=max_tokens, progress=False, n_boot=0)  # fmt: skip
        start = time.perf_counter()
        outcome = run(config)
        seconds = time.perf_counter() - start
    finally:
        undo()
    if outcome.n_backend_errors:
        raise SystemExit(f"j1eval run failed at the backend: {outcome.backend_error}")
    return seconds, probe


def chat_text(tokenizer: Any, request: Any) -> str:
    """The request's messages through the chat template (a prefilled answer continued)."""
    messages = [dict(m) for m in request.prompt.messages]
    if request.prompt.prefill:
        return tokenizer.apply_chat_template(messages, continue_final_message=True, tokenize=False)
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


class Bare:
    """The plain transformers calls on the same prompts."""

    def __init__(self, path: str, dtype: Any) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        start = time.perf_counter()
        self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.lm = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True).eval()
        self.load_s = time.perf_counter() - start

    def batches(self, texts: list[str], batch_size: int, pad_id: int) -> list[tuple[list[int], Any, Any]]:
        """(indices, input_ids, attention_mask) per batch: longest first, left-padded."""
        import torch

        ids = [self.tok(t, add_special_tokens=False)["input_ids"] for t in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        out = []
        for s in range(0, len(order), batch_size):
            batch = order[s : s + batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for k, i in enumerate(batch):
                input_ids[k, width - len(ids[i]) :] = torch.tensor(ids[i])
                mask[k, width - len(ids[i]) :] = 1
            out.append((batch, input_ids, mask))
        return out

    def generate(self, texts: list[str], batch_size: int, max_tokens: int, eos: list[int], pad: int) -> list[str]:
        """Greedy ``generate`` texts, cut at the first end token."""
        import torch

        result = [""] * len(texts)
        with torch.inference_mode():
            for batch, input_ids, mask in self.batches(texts, batch_size, pad):
                seqs = self.lm.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_tokens,
                                        do_sample=False, temperature=None, top_p=None, top_k=None,
                                        eos_token_id=eos, pad_token_id=pad)  # fmt: skip
                for k, i in enumerate(batch):
                    row = seqs[k, input_ids.size(1) :].tolist()
                    cut = next((j for j, t in enumerate(row) if t in eos), len(row))
                    result[i] = self.tok.decode(row[:cut], skip_special_tokens=True)
        return result

    def forward(self, texts: list[str], batch_size: int, pad: int) -> list[dict[str, float]]:
        """One forward pass per prompt (batched): the last position's top-20 log-probabilities by token text."""
        import torch

        result: list[dict[str, float]] = [{} for _ in texts]
        with torch.inference_mode():
            for batch, input_ids, mask in self.batches(texts, batch_size, pad):
                logits = self.lm(input_ids=input_ids, attention_mask=mask, logits_to_keep=1).logits[:, -1]
                values, ids = torch.log_softmax(logits.float(), dim=-1).topk(TOP, dim=-1)
                for k, i in enumerate(batch):
                    top: dict[str, float] = {}
                    for v, t in zip(values[k].tolist(), ids[k].tolist(), strict=True):
                        text = self.tok.decode([t])
                        top[text] = max(top.get(text, -1e9), v)  # the j1eval side merges; the top one decides
                    result[i] = top
        return result


def stats(values: list[float]) -> str:
    return f"{min(values):7.2f} {statistics.median(values):7.2f}"


def compare_format(data: Path, tmp: Path, fmt: str, max_tokens: int | None, reps: int) -> dict[str, Any]:
    """Interleaved j1eval / bare runs of one format; prints the rows, returns the ratios and the check."""
    _, probe = j1eval_once(data, tmp / f"warm-{fmt}", fmt, max_tokens)  # untimed warm-up; gives the requests
    info = probe.info
    texts_in = [chat_text(_tokenizer(info["path"]), r) for r in probe.requests]
    limit = max_tokens if max_tokens is not None else 1
    times: dict[str, list[float]] = {k: [] for k in ("j1 load", "j1 gen", "j1 backend", "j1 total", "bare load",
                                                     "bare gen", "bare total")}  # fmt: skip
    same, detail = True, ""
    for rep in range(reps):
        total, probe = j1eval_once(data, tmp / f"{fmt}-{rep}", fmt, max_tokens)
        times["j1 load"].append(probe.load_s)
        times["j1 gen"].append(total - probe.load_s)
        times["j1 backend"].append(probe.generate_s)
        times["j1 total"].append(total)
        bare = Bare(info["path"], info["dtype"])
        start = time.perf_counter()
        if fmt == "direct-verdict":
            tops = bare.forward(texts_in, info["batch_size"], info["pad_id"])
        else:
            texts = bare.generate(texts_in, info["batch_size"], limit, info["eos_ids"], info["pad_id"])
        gen = time.perf_counter() - start
        times["bare load"].append(bare.load_s)
        times["bare gen"].append(gen)
        times["bare total"].append(bare.load_s + gen)
        if fmt == "direct-verdict":
            ok, detail = check_tops(probe.tops, tops)
        else:
            ok = probe.texts == texts
            detail = f"{sum(a == b for a, b in zip(probe.texts, texts, strict=True))}/{len(texts)} texts identical"
        same = same and ok
        del bare
    n = len(probe.requests)
    print(f"\n{fmt}: {n} prompts ({n // 2} pairs x 2 orders), batch size {info['batch_size']}, dtype "
          f"{info['dtype']}, max new tokens {limit}; {reps} interleaved reps (s: min, median)")  # fmt: skip
    print(f"{'':>22} {'min':>7} {'median':>7}")
    for name, values in times.items():
        print(f"{name:>22} {stats(values)}")
    ratio_gen = statistics.median(times["j1 gen"]) / statistics.median(times["bare gen"])
    ratio_gen_min = min(times["j1 gen"]) / min(times["bare gen"])
    paired = statistics.median(a / b for a, b in zip(times["j1 gen"], times["bare gen"], strict=True))
    ratio_backend = min(times["j1 backend"]) / min(times["bare gen"])
    ratio_load = min(times["j1 load"]) / min(times["bare load"])
    ratio_total = min(times["j1 total"]) / min(times["bare total"])
    print(f"{'ratio j1eval/bare':>22}  generation: min/min {ratio_gen_min:.3f}, median/median {ratio_gen:.3f}, "
          f"median of per-rep ratios {paired:.3f}; min/min: backend.generate {ratio_backend:.3f}, "
          f"load {ratio_load:.3f}, total {ratio_total:.3f}")  # fmt: skip
    print(f"{'outputs':>22}  {'SAME' if same else 'DIFFERENT'}: {detail}")
    return {
        "min": ratio_gen_min,
        "median": ratio_gen,
        "paired": paired,
        "same": same,
        "bare_gen": min(times["bare gen"]),
    }


_TOKENIZERS: dict[str, Any] = {}


def _tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    if path not in _TOKENIZERS:
        _TOKENIZERS[path] = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return _TOKENIZERS[path]


def check_tops(ours: list[dict[str, float] | None], bare: list[dict[str, float]]) -> tuple[bool, str]:
    """Same most likely token per prompt, and the largest log-prob difference over the tokens both list."""
    top_same = 0
    worst = 0.0
    for a, b in zip(ours, bare, strict=True):
        a = a or {}
        top_same += bool(a) and max(a, key=a.get) == max(b, key=b.get)
        shared = set(a) & set(b)
        worst = max([worst, *(abs(a[t] - b[t]) for t in shared if b[t] > -20)])
    ok = top_same == len(bare) and worst < 1e-3
    return ok, f"top token same on {top_same}/{len(bare)} prompts, max |dlogprob| {worst:.1e}"


VLLM_OPTIONS = {"enforce_eager": True, "max_model_len": 4096, "keep_engine": True}


def _vllm_run(path: str, data: Path, out: Path, fmt: str, limit: int) -> tuple[float, float, list[Any]]:
    """One ``run`` through the vLLM backend (engine kept): wall seconds, seconds inside the backend's
    ``generate`` (queueing, stepping, decoding outputs, storing each judgment as it finishes), requests."""
    from j1eval.backends import vllm_backend
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    seen: list[Any] = []
    inside: list[float] = []
    generate = vllm_backend.VLLMBackend.generate

    def spy(self: Any, requests: Any, *args: Any, **kwargs: Any) -> Any:
        seen.extend(requests)
        start = time.perf_counter()
        try:
            return generate(self, requests, *args, **kwargs)
        finally:
            inside.append(time.perf_counter() - start)

    vllm_backend.VLLMBackend.generate = spy  # type: ignore[method-assign]
    try:
        config = RunConfig(judge=f"vllm:{path}", benches=["pairs"], data_dir=data, out=out, format=fmt,
                           max_tokens=limit, progress=False, n_boot=0, backend_options=dict(VLLM_OPTIONS))  # fmt: skip
        start = time.perf_counter()
        run(config)
        return time.perf_counter() - start, sum(inside), seen
    finally:
        vllm_backend.VLLMBackend.generate = generate  # type: ignore[method-assign]


def vllm_compare(data: Path, tmp: Path, max_tokens: int, reps: int, hf_gen: dict[str, float]) -> dict[str, float]:
    """``run`` through the vLLM backend vs a bare ``LLM.chat`` on the same prompts and the same engine.

    One engine (the backend's CPU defaults, eager, 4,096 tokens) is started once and kept
    (``keep_engine``), so model load is apart on both sides; rounds interleave. Returns
    j1eval/bare per format (min/min), and prints vLLM vs transformers for the same judgments.
    """
    try:
        import vllm
    except ImportError:
        print("\nvllm: not installed here, comparison skipped")
        return {}
    from j1eval.backends import vllm_backend
    from j1eval.local_models import smollm2_path

    path = str(smollm2_path())
    ratios: dict[str, float] = {}
    for fmt, limit in (("direct-verdict", 1), ("pairwise-verdict", max_tokens)):
        _, _, requests = _vllm_run(path, data, tmp / f"vllm-warm-{fmt}", fmt, limit)  # starts and keeps the engine
        (llm,) = vllm_backend._KEPT.values()
        prefilled = fmt == "direct-verdict"
        params = vllm.SamplingParams(temperature=0.0, max_tokens=limit, logprobs=20 if prefilled else None)
        messages = [[dict(m) for m in r.prompt.messages] for r in requests]
        ours, whole, bare = [], [], []
        for rep in range(reps):
            wall, inside, _ = _vllm_run(path, data, tmp / f"vllm-{fmt}-{rep}", fmt, limit)
            whole.append(wall)
            ours.append(inside)
            start = time.perf_counter()
            llm.chat(messages, params, use_tqdm=False, add_generation_prompt=not prefilled,
                     continue_final_message=prefilled)  # fmt: skip
            bare.append(time.perf_counter() - start)
        ratios[fmt] = min(whole) / min(bare)  # as for transformers: the whole run, load apart
        print(
            f"\nvllm {fmt}: {len(requests)} prompts, max new tokens {limit}; {reps} interleaved reps (s: min, median)"
        )
        print(f"{'j1eval generate':>22} {stats(ours)}")
        print(f"{'j1eval whole run':>22} {stats(whole)}")
        print(f"{'bare LLM.chat':>22} {stats(bare)}")
        print(f"{'ratio j1eval/bare':>22}  whole run (data, prompts, store, scores, results.json) min/min "
              f"{ratios[fmt]:.3f}; inside generate {min(ours) / min(bare):.3f}")  # fmt: skip
        if fmt in hf_gen:
            print(f"{'vLLM vs transformers':>22}  {min(bare) / hf_gen[fmt]:.3f}x the time of transformers' bare "
                  f"{fmt} on the same prompts (CPU; reported, not a goal)")  # fmt: skip
        del requests
    for llm in list(vllm_backend._KEPT.values()):
        del llm
    vllm_backend._KEPT.clear()
    return ratios


def runner_alone(data: Path, tmp: Path, reps: int) -> None:
    """``j1eval.run`` with the model-free judge ``first`` on the same pairs: the runner's own fixed cost."""
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    for fmt in ("direct-verdict", "pairwise-verdict"):
        times = []
        for rep in range(reps):
            start = time.perf_counter()
            run(RunConfig(judge="first", benches=["pairs"], data_dir=data, out=tmp / f"first-{fmt}-{rep}", format=fmt,
                          progress=False, n_boot=0))  # fmt: skip
            times.append(time.perf_counter() - start)
        print(f"\nrunner alone (judge `first`, no model, {fmt}): {stats(times)} s (min, median)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=6, help="the N shortest RewardBench pairs (2 N prompts)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=16, help="new tokens in pairwise-verdict")
    parser.add_argument("--only", choices=("transformers", "vllm"), help="one engine's comparison only")
    args = parser.parse_args(argv)
    quiet()
    import torch

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, judge {JUDGE}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = shortest_pairs(tmp / "data", args.pairs)
        ratios = {}
        if args.only != "vllm":
            ratios = {
                "direct-verdict": compare_format(data, tmp, "direct-verdict", None, args.reps),
                "pairwise-verdict": compare_format(data, tmp, "pairwise-verdict", args.max_tokens, args.reps),
            }
        vllm_ratios = {}
        if args.only != "transformers":
            hf_gen = {f: r["bare_gen"] for f, r in ratios.items()}
            vllm_ratios = vllm_compare(data, tmp, args.max_tokens, args.reps, hf_gen)
        runner_alone(data, tmp, args.reps)
    parts = [
        f"{fmt} {r['min']:.3f}x min/min, {r['paired']:.3f}x per-rep median ({'same' if r['same'] else 'DIFFERENT'} "
        "outputs)"
        for fmt, r in ratios.items()
    ]
    parts += [f"vllm {fmt} {ratio:.3f}x min/min" for fmt, ratio in vllm_ratios.items()]
    worst = max([*(r["min"] for r in ratios.values()), *vllm_ratios.values()])
    verdict = "meets" if worst <= GOAL else "misses"
    print(f"headline: j1eval/bare generation time (model load excluded) {'; '.join(parts)}; goal <= {GOAL} "
          f"(on min/min): {verdict}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
