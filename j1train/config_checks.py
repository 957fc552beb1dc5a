"""Types and ranges of every training-config field, and the YAML loader that reads numbers as numbers.

:func:`check_fields` runs in ``J1GRPOConfig.__post_init__`` before any other check: each field
is checked against its annotation (``int``, ``float``, ``bool``, ``str``, ``list[str]``, a
mapping, optional or not) and the range in :data:`RANGES`. A string where a number belongs
(``learning_rate: "1e-6"``), a float where a whole number belongs (``per_device_train_batch_size:
4.0``), a bool where a number belongs, NaN or infinity, or a value out of range is an
InputError naming the key. An int is accepted where a float belongs (and stored as a float).

YAML: PyYAML's ``SafeLoader`` follows YAML 1.1, whose float pattern needs a dot, so ``1e-6``
would be the *string* "1e-6". :class:`ConfigLoader` (a ``SafeLoader``) adds YAML 1.2's float
pattern (``1e-6``, ``5E3``, ``-2.5e+4``, ``.inf``, ``.nan``) and refuses a mapping that gives
one key twice.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass
from typing import Any

import yaml

from j1eval.errors import InputError


@dataclass(frozen=True)
class Range:
    """Bounds of a number: ``minimum``/``maximum`` inclusive, ``above``/``below`` exclusive; ``also``: allowed too."""

    minimum: float | None = None
    above: float | None = None
    maximum: float | None = None
    below: float | None = None
    also: tuple[float, ...] = ()

    def problem(self, value: float) -> str | None:
        if value in self.also:
            return None
        extra = f" (or {', '.join(f'{v:g}' for v in self.also)})" if self.also else ""
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}{extra}, got {value!r}"
        if self.above is not None and value <= self.above:
            return f"must be above {self.above:g}{extra}, got {value!r}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {self.maximum:g}, got {value!r}"
        if self.below is not None and value >= self.below:
            return f"must be below {self.below:g}, got {value!r}"
        return None


AT_LEAST_1 = Range(minimum=1)
RANGES: dict[str, Range] = {
    "limit": AT_LEAST_1,
    "num_generations": Range(minimum=2),
    "temperature": Range(above=0),
    "top_p": Range(above=0, maximum=1),
    "learning_rate": Range(above=0),
    "beta": Range(minimum=0),
    "max_prompt_length": AT_LEAST_1,
    "max_completion_length": AT_LEAST_1,
    "per_device_train_batch_size": AT_LEAST_1,
    "gradient_accumulation_steps": AT_LEAST_1,
    "steps_per_generation": AT_LEAST_1,
    "per_device_eval_batch_size": AT_LEAST_1,
    "num_train_epochs": Range(above=0),
    "max_steps": Range(minimum=1, also=(-1,)),
    "logging_steps": AT_LEAST_1,
    "save_steps": AT_LEAST_1,
    "save_total_limit": AT_LEAST_1,
    "seed": Range(minimum=0, maximum=2**32 - 1),
    "vllm_gpu_memory_utilization": Range(above=0, maximum=1),
    "vllm_tensor_parallel_size": AT_LEAST_1,
    "eval_limit": AT_LEAST_1,
    "eval_sample": AT_LEAST_1,
    "eval_steps": AT_LEAST_1,
}
REWARD_RANGE = Range(minimum=0)
LORA = {"r": (int, AT_LEAST_1), "alpha": (float, Range(above=0)), "dropout": (float, Range(minimum=0, below=1))}


def _kind(value: Any) -> str:
    names = {bool: "a boolean", str: "text", list: "a list", dict: "a mapping", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def check_number(key: str, value: Any, kind: type, bounds: Range | None, source: object) -> int | float:
    """``value`` as a ``kind`` (int or float) within ``bounds``, or an InputError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        expected = "a whole number" if kind is int else "a number"
        hint = " (write it without quotes)" if isinstance(value, str) else ""
        raise InputError(f"expected {expected}, got {_kind(value)} {value!r}{hint}", path=source, field=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", path=source, field=key)
    if kind is int and not isinstance(value, int):
        raise InputError(f"expected a whole number, got {value!r}", path=source, field=key)
    value = float(value) if kind is float else value
    problem = bounds.problem(value) if bounds is not None else None
    if problem:
        raise InputError(problem, path=source, field=key)
    return value


def _check(key: str, value: Any, hint: Any, source: object) -> Any:
    """``value`` checked against the type annotation ``hint`` (and :data:`RANGES`)."""
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
        args = typing.get_args(hint)
    origin = typing.get_origin(hint) or hint
    if hint in (int, float):
        return check_number(key, value, hint, RANGES.get(key), source)
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, got {_kind(value)} {value!r}", path=source, field=key)
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f"expected text, got {_kind(value)} {value!r}", path=source, field=key)
        return value
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InputError(f"expected a list of names, got {_kind(value)} {value!r}", path=source, field=key)
        return value
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise InputError(f"expected a mapping, got {_kind(value)} {value!r}", path=source, field=key)
        return value
    return value


def check_fields(config: Any) -> None:
    """Type- and range-check every field of ``config`` in place (ints where floats belong become floats)."""
    hints = typing.get_type_hints(type(config))
    source = config.source
    for key, hint in hints.items():
        if key == "source" or key.startswith("_"):
            continue
        setattr(config, key, _check(key, getattr(config, key), hint, source))
    for name, weight in (config.rewards or {}).items():
        config.rewards[name] = check_number(f"rewards.{name}", weight, float, REWARD_RANGE, source)
    if isinstance(config.lora, dict):
        for name, (kind, bounds) in LORA.items():
            if name in config.lora:
                config.lora[name] = check_number(f"lora.{name}", config.lora[name], kind, bounds, source)
        modules = config.lora.get("target_modules")
        if modules is not None and not (
            (isinstance(modules, str) and modules)
            or (isinstance(modules, list) and modules and all(isinstance(m, str) and m for m in modules))
        ):
            raise InputError(
                f"expected a module name or a list of them, got {modules!r}", path=source, field="lora.target_modules"
            )


# --------------------------------------------------------------------------- YAML

_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 floats (``1e-6`` is a number) and no duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (line {key_node.start_mark.line + 1})", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
# Added after SafeLoader's own resolvers: "10" still matches the int pattern first and stays an int.


def load_yaml(text: str) -> Any:
    """Parse a config's YAML text with :class:`ConfigLoader`."""
    return yaml.load(text, Loader=ConfigLoader)  # noqa: S506 (a SafeLoader subclass)
