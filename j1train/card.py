"""The small card written into every saved folder: ``j1train_card.json`` and ``README.md``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

CARD_FILE = "j1train_card.json"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def eval_figures(log_history: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest value of every evaluation figure logged during training (keys with 'eval')."""
    figures: dict[str, Any] = {}
    for entry in log_history:
        for key, value in entry.items():
            if "eval" in key and isinstance(value, int | float):
                figures[key] = value
    return figures


def card_data(
    config: Any, info: dict[str, Any], step: int, log_history: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the card records: base model, data, rewards, steps, GRPO settings, j1eval figures."""
    return {
        "base_model": config.model,
        "format": config.format,
        "data": {
            "train_pairs": config.train_pairs,
            "subsets": config.subsets,
            "limit": config.limit,
            **info,
        },
        "rewards": config.reward_weights,
        "consistency_match": config.consistency_match,
        "steps": step,
        "grpo": {
            k: getattr(config, k)
            for k in (
                "num_generations",
                "temperature",
                "top_p",
                "learning_rate",
                "beta",
                "max_prompt_length",
                "max_completion_length",
                "per_device_train_batch_size",
                "gradient_accumulation_steps",
                "seed",
            )
        },
        "lora": config.lora,
        "j1eval_figures": eval_figures(log_history or []),
        "versions": {n: _version(n) for n in ("j1eval", "trl", "transformers", "torch", "peft")},
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_card(folder: str | Path, data: dict[str, Any]) -> None:
    """Write ``j1train_card.json`` and a short ``README.md`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CARD_FILE).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    rewards = ", ".join(f"{k} x{v:g}" for k, v in data["rewards"].items())
    figures = data["j1eval_figures"]
    lines = [
        f"# J1-style judge trained with j1train ({data['steps']} GRPO steps)",
        "",
        f"- base model: `{data['base_model']}`",
        f"- judge format: `{data['format']}` (j1eval's prompt and parser)",
        f"- training pairs: `{data['data']['train_pairs']}` ({data['data'].get('n_pairs', '?')} pairs)",
        f"- rewards: {rewards} (consistency matching: {data['consistency_match']})",
        f"- GRPO: {json.dumps(data['grpo'])}",
        f"- LoRA: {json.dumps(data['lora'])}",
        "",
        "## Evaluate",
        "",
        "```bash",
        f"python -m j1eval run --judge hf:{folder} --format {data['format']} --bench judgebench",
        f"J1EVAL_J1_8B_MODEL={folder} python -m j1eval run --judge j1-8b --bench all",
        "```",
        "",
        "## j1eval figures during training",
        "",
        *([f"- {k}: {v:.4g}" for k, v in sorted(figures.items())] or ["none recorded"]),
        "",
    ]
    (folder / "README.md").write_text("\n".join(lines), encoding="utf-8")
