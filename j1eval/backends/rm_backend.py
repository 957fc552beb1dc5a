"""Scalar reward models through transformers ``AutoModelForSequenceClassification`` (``--judge rm:PATH_OR_ID``).

Each request is one conversation of the ``reward-model`` format (the user's prompt, then
one response as the assistant's turn). It is rendered with the model's own chat template,
tokenized as the template writes it (no extra special tokens), and scored in batches of
``batch_size`` sorted by length, right-padded, so each row's score is the one it gets alone:
the model's single logit at its last token (transformers pools at the rightmost token that
is not the padding id; a model with no padding id is given one that no row of the batch
holds, so that rule picks the true last token). The answer is a :class:`Completion` whose
text is the score (``repr`` of the float, exact), which the format reads.

Options: ``batch_size`` (default 8), ``device`` ("cuda" when available, else "cpu"),
``dtype`` ("auto": bfloat16 on GPU, float32 on CPU; or a torch dtype name).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

from j1eval.backends import backend
from j1eval.backends._torch_models import device_and_dtype, model_folder
from j1eval.backends.base import Backend, Option, Request
from j1eval.errors import SetupError, one_line
from j1eval.local_models import model_revision
from j1eval.types import Completion, Sampling


@backend("rm")
class RewardModelBackend(Backend):
    """A sequence-classification reward model with one output (a local folder or a hub id)."""

    OPTIONS = {
        "batch_size": Option(int, "conversations per forward pass", minimum=1, operational=True),
        "device": Option(str, "torch device, e.g. cpu, cuda, cuda:1"),
        "dtype": Option(str, "auto, or a torch dtype name such as bfloat16"),
    }
    #: It scores conversations: the format that shows it each response alone.
    FORMATS = ("reward-model",)
    requests_per_call = 1024

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise SetupError(f"the rm backend needs torch and transformers: pip install 'j1eval[hf]' ({exc})") from None
        self._torch = torch
        self.batch_size = max(1, int(options.get("batch_size", 8)))
        self.device, dtype = device_and_dtype(torch, options, "rm")
        self.path, kwargs = model_folder(model, "reward model")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, **kwargs)
            self.rm = AutoModelForSequenceClassification.from_pretrained(self.path, dtype=dtype, **kwargs)
        except (OSError, ValueError) as exc:
            raise SetupError(f"reward model {model!r} not found: {one_line(exc, 300)}") from None
        if not getattr(self.tokenizer, "chat_template", None):
            raise SetupError(f"reward model {model!r} has no chat template; the rm backend renders conversations")
        labels = int(getattr(self.rm.config, "num_labels", 1))
        if labels != 1:
            raise SetupError(f"reward model {model!r} has {labels} outputs; the rm backend reads a single score")
        self.text_config = self.rm.config.get_text_config()
        self.own_pad = self.text_config.pad_token_id
        self.rm.to(self.device)
        self.rm.eval()
        self._revision: str | None = None

    @property
    def model_revision(self) -> str:
        if self._revision is None:
            self._revision = model_revision(self.path, getattr(self.rm.config, "_commit_hash", None))
        return self._revision

    def encode(self, request: Request) -> list[int]:
        """Token ids of a request's conversation through the model's chat template."""
        messages = [dict(m) for m in request.prompt.messages]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False)
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        """One score per conversation (the same for each of the ``n`` samples: a reward model is deterministic)."""
        encoded = [self.encode(r) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: len(encoded[i]), reverse=True)
        results: list[list[Completion]] = [[] for _ in requests]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for i, completion in zip(batch, self._score_batch([encoded[i] for i in batch]), strict=True):
                results[i] = [completion] * n
                if on_done is not None:
                    on_done(i, results[i])
        return results

    def _score_batch(self, rows: list[list[int]]) -> list[Completion]:
        """A completion per row; on out-of-memory the batch is halved; other errors become values."""
        torch = self._torch
        start = time.perf_counter()
        try:
            scores = self.scores(rows)
        except torch.OutOfMemoryError as exc:
            self._free()
            if len(rows) > 1:
                half = len(rows) // 2
                return self._score_batch(rows[:half]) + self._score_batch(rows[half:])
            return [Completion("", "error", len(rows[0]), error=one_line(exc, 300))]
        except Exception as exc:  # one failing batch must not end the run
            self._free()
            return [Completion("", "error", len(r), error=one_line(exc, 300)) for r in rows]
        latency = (time.perf_counter() - start) / len(rows)
        return [Completion(repr(s), "stop", len(r), 0, latency) for r, s in zip(rows, scores, strict=True)]

    def scores(self, rows: list[list[int]]) -> list[float]:
        """The model's score of each token row, right-padded into one batch."""
        torch = self._torch
        width = max(len(r) for r in rows)
        pad = self.own_pad if self.own_pad is not None else self._unused_id(rows)
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, row in enumerate(rows):
            input_ids[k, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[k, : len(row)] = 1
        self.text_config.pad_token_id = pad  # where transformers pools: the last token that is not ``pad``
        try:
            with torch.inference_mode():
                logits = self.rm(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
        finally:
            self.text_config.pad_token_id = self.own_pad
        return [float(v) for v in logits[:, 0].float().cpu().tolist()]

    def _unused_id(self, rows: list[list[int]]) -> int:
        """A token id that no row holds (from the top of the vocabulary), to pad a model that names none."""
        used = {t for row in rows for t in row}
        size = int(getattr(self.text_config, "vocab_size", 0) or len(self.tokenizer))
        return next(t for t in range(size - 1, -1, -1) if t not in used)

    def _free(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            self._torch.cuda.empty_cache()

    def close(self) -> None:
        self.__dict__.pop("rm", None)
        self._free()
