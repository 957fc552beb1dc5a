"""The training config: one dataclass beside the trainer, read from YAML or TOML.

Its defaults are J1's recipe (arXiv 2505.10320, Section 3 and Appendix): 5 rollouts per
prompt at temperature 1.0, learning rate 1e-6, KL coefficient 0.01 (0 for the 70B
recipe), up to 4,096 tokens of prompt and 4,096 of output, verdict-correctness and
position-consistency rewards. Every value can be changed; a key the dataclass does not
know is an error naming it. ``trl`` passes any other :class:`trl.GRPOConfig` field through.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from j1eval.errors import InputError

#: Reward names and their J1 defaults (weights; 0 = computed and logged, not trained on).
DEFAULT_REWARDS: dict[str, float] = {"verdict": 1.0, "consistency": 1.0, "format": 0.0}
REWARD_NAMES = ("verdict", "consistency", "format")
CONSISTENCY_MATCHES = ("index", "mean")
ORDERS = ("both", "single")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
LORA_KEYS = {"r", "alpha", "dropout", "target_modules"}
#: j1eval backends that can judge a checkpoint folder during training (j1train.eval_loop).
EVAL_BACKENDS = ("hf", "vllm")


@dataclass
class J1GRPOConfig:
    """What ``python -m j1train grpo --config FILE`` reads (see ``j1train/configs/*.yaml``)."""

    model: str = ""
    output_dir: str = "runs/j1train"
    format: str = "pairwise-verdict"
    # -- data: a .jsonl/.parquet file of pairs, bench:NAME (subsets filter), or ste:PATH
    train_pairs: str = ""
    subsets: list[str] | None = None
    limit: int | None = None
    data_dir: str | None = None
    eval_pairs: str | None = None  # optional TRL eval set (same sources), evaluated with the pair-aware sampler
    orders: str = "both"  # both: each pair in both answer orders (J1); single: one seeded order per pair
    # -- rewards
    rewards: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_REWARDS))
    consistency_match: str = "index"
    # -- GRPO (J1 defaults)
    num_generations: int = 5
    temperature: float = 1.0
    top_p: float = 1.0
    learning_rate: float = 1e-6
    beta: float = 0.01
    max_prompt_length: int = 4096  # pairs whose prompt is longer are dropped (both orders)
    max_completion_length: int = 4096
    per_device_train_batch_size: int = 10  # completions, not prompts: 10 = one pair, two orders, 5 rollouts
    gradient_accumulation_steps: int = 1
    steps_per_generation: int | None = None
    per_device_eval_batch_size: int = 10
    num_train_epochs: float = 1.0
    max_steps: int = -1
    logging_steps: int = 1
    save_steps: int = 500
    save_total_limit: int | None = None
    seed: int = 0
    precision: str = "auto"  # auto: bf16 on a bf16-capable GPU, fp16 on another GPU, fp32 on CPU
    gradient_checkpointing: bool = False
    # -- generation backend
    use_vllm: bool = False
    vllm_mode: str = "colocate"  # or "server" (trl vllm-serve)
    vllm_server_base_url: str | None = None
    vllm_gpu_memory_utilization: float = 0.3
    vllm_tensor_parallel_size: int = 1
    # -- LoRA (peft): null, or {r, alpha, dropout, target_modules}
    lora: dict[str, Any] | None = None
    merge_lora: bool = True  # the final folder holds merged weights (loadable by j1eval)
    # -- logging
    log_completions: bool = True
    report_to: str = "none"
    trl: dict[str, Any] = field(default_factory=dict)  # any other GRPOConfig field
    # -- evaluation during training (j1train.eval_loop) and decontamination (j1train.decontam)
    eval_benches: list[str] = field(default_factory=list)
    eval_limit: int | None = None  # the first N pairs of each eval benchmark
    eval_sample: int | None = None  # or a seeded sample of N pairs across all its subsets
    eval_steps: int | None = None
    eval_data_dir: str | None = None
    decontaminate_against: list[str] | None = None  # None: eval_benches
    eval_keep_models: bool = False  # keep each evaluated step's weights (OUT/eval/step-N/model), e.g. to pick one later
    eval_backend: str = "hf"  # the j1eval backend that judges each checkpoint: hf or vllm
    eval_backend_options: dict[str, Any] = field(default_factory=dict)  # its options, e.g. {batch_size: 8}
    # where the config was read from (not a key)
    source: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from j1train.config_checks import check_fields

        check_fields(self)  # types and ranges of every key first (j1train.config_checks)
        self.validate()

    def _error(self, key: str, message: str) -> InputError:
        return InputError(message, path=self.source, field=key)

    def validate(self) -> None:
        """Check values that need no model, no data and no heavy import."""
        if not self.model:
            raise self._error("model", "missing: a local model folder or a hub id")
        if not self.train_pairs:
            raise self._error("train_pairs", "missing: a .jsonl/.parquet file, bench:NAME or ste:PATH")
        from j1eval.formats import FORMATS

        if self.format not in FORMATS.names():
            raise self._error("format", f"unknown format {self.format!r} (known: {', '.join(FORMATS.names())})")
        if not isinstance(self.rewards, dict) or not self.rewards:
            raise self._error("rewards", "expected a mapping of reward name to weight")
        for name in self.rewards:
            if name not in REWARD_NAMES:
                raise self._error("rewards", f"unknown reward {name!r} (known: {', '.join(REWARD_NAMES)})")
        if self.orders not in ORDERS:
            raise self._error("orders", f"expected one of {', '.join(ORDERS)}, got {self.orders!r}")
        if self.orders == "single" and self.rewards.get("consistency"):
            raise self._error("rewards", "the consistency reward needs both orders: drop it or set orders: both")
        if self.consistency_match not in CONSISTENCY_MATCHES:
            raise self._error("consistency_match", f"expected one of {', '.join(CONSISTENCY_MATCHES)}")
        if self.precision not in PRECISIONS:
            raise self._error("precision", f"expected one of {', '.join(PRECISIONS)}")
        if self.vllm_mode not in ("colocate", "server"):
            raise self._error("vllm_mode", "expected colocate or server")
        if self.eval_limit is not None and self.eval_sample is not None:
            raise self._error("eval_sample", "give eval_limit (the first N pairs) or eval_sample (a seeded sample)")
        self._check_eval_backend()
        if self.lora is not None:
            if not isinstance(self.lora, dict):
                raise self._error("lora", "expected a mapping {r, alpha, dropout, target_modules} or null")
            unknown = sorted(set(self.lora) - LORA_KEYS)
            if unknown:
                raise self._error(f"lora.{unknown[0]}", f"unknown key (known: {', '.join(sorted(LORA_KEYS))})")

    def _check_eval_backend(self) -> None:
        """``eval_backend`` judges a local checkpoint, and each of ``eval_backend_options`` is one it declares."""
        from j1eval.backends import check_options

        if self.eval_backend not in EVAL_BACKENDS:
            raise self._error("eval_backend", f"expected one of {', '.join(EVAL_BACKENDS)}, got {self.eval_backend!r}")
        checked = {}
        for key, value in self.eval_backend_options.items():
            try:
                checked.update(check_options(self.eval_backend, {key: value}))
            except InputError as exc:
                message = str(exc).removeprefix(f"--backend-option {key}: ")
                raise self._error(f"eval_backend_options.{key}", message) from None
        self.eval_backend_options = checked

    @property
    def reward_weights(self) -> dict[str, float]:
        """Every reward the format and orders support, with its weight (0 for those not asked for)."""
        from j1eval.formats import get_format

        no_pairing = get_format(self.format).pointwise or self.orders == "single"
        names = [n for n in REWARD_NAMES if not (n == "consistency" and no_pairing)]
        return {n: float(self.rewards.get(n, 0.0)) for n in names}

    @property
    def decontam_benches(self) -> list[str]:
        return list(self.eval_benches if self.decontaminate_against is None else self.decontaminate_against)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "source"}


def config_from_dict(data: dict[str, Any], source: str | None = None) -> J1GRPOConfig:
    """A config from a mapping; an unknown key is an :class:`InputError` naming it."""
    if not isinstance(data, dict):
        raise InputError("expected a mapping of keys to values at the top level", path=source)
    known = {f.name for f in dataclasses.fields(J1GRPOConfig)} - {"source"}
    for key in data:
        if key not in known:
            raise InputError("unknown key (see j1train/configs/ for the known ones)", path=source, field=str(key))
    rewards = data.get("rewards")
    if isinstance(rewards, list):  # `rewards: [verdict, consistency]` = weight 1 each
        data = {**data, "rewards": dict.fromkeys(rewards, 1.0)}
    return J1GRPOConfig(**data, source=source)


def load_config(path: str | Path) -> J1GRPOConfig:
    """Read a YAML (``.yaml``/``.yml``, :class:`j1train.config_checks.ConfigLoader`) or TOML (``.toml``) config file."""
    from j1eval.safe_io import open_regular

    path = Path(path)
    if not path.exists():
        raise InputError("config file not found", path=path)
    with open_regular(path) as fh:  # a FIFO or a folder: one line, never a hang
        raw = fh.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the config as UTF-8", path=path) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 byte-order mark: harmless here
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            from j1train.config_checks import load_yaml

            data = load_yaml(text)
            data = {} if data is None else data
    except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError
        raise InputError(
            f"not valid {path.suffix.lstrip('.') or 'YAML'}: {' '.join(str(exc).split())}", path=path
        ) from None
    return config_from_dict(data, source=str(path))


def looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or spec in (".", "..") or os.path.exists(spec)


def check_model_path(config: J1GRPOConfig) -> None:
    """A local model folder must exist and hold config.json (checked before anything loads)."""
    spec = config.model
    if not looks_like_path(spec):
        return  # a hub id: resolved by transformers
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise InputError(f"model folder {spec!r} does not exist", path=config.source, field="model")
    if not (folder / "config.json").is_file():
        raise InputError(f"model folder {spec!r} has no config.json", path=config.source, field="model")


def precision_flags(precision: str) -> dict[str, bool]:
    """bf16/fp16 for TrainingArguments, from the setting or (``auto``) from the hardware."""
    if precision == "auto":
        import torch

        gpu = torch.cuda.is_available()
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if gpu else "fp32"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}
