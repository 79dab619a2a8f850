"""Adapt a sentence-transformers model to a code base: contrastive tuning on its own pairs.

Each step embeds a batch of queries (docstring summaries) and their code, scores every query
against every code in the batch (cosine times ``scale``) and minimises the cross-entropy of
picking its own code: the other pairs of the batch are the negatives ("in-batch negatives",
the multiple-negatives ranking loss). One pass over a few thousand pairs takes minutes on a
CPU. The result is a normal sentence-transformers directory that ``KG_EMBEDDING_MODEL`` (or
``open_embedder``) can point at, with ``codekg-adapt.json`` saying how it was made::

    report = adapt_model(packaged_model_path(), pairs, Path(".kg/models/adapted"))
    open_embedder(str(report.output)).embed(["read a config file"], role="query")
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embeddings.pairs import Mined, Pair, mine_directory
from embeddings.sentence import is_default_model, packaged_model_path
from kg.errors import ConfigError, InvalidInput

MANIFEST = "codekg-adapt.json"


@dataclass(frozen=True, slots=True)
class AdaptOptions:
    epochs: int = 1
    batch_size: int = 32
    max_seq_length: int = 128
    learning_rate: float = 2e-5
    warmup: float = 0.1
    scale: float = 20.0
    seed: int = 0
    threads: int | None = None


@dataclass(frozen=True, slots=True)
class AdaptReport:
    output: Path
    base: str
    pairs: int
    steps: int
    seconds: float
    first_loss: float
    last_loss: float


def adapt_model(
    base: Path | str,
    pairs: Sequence[Pair],
    output: Path,
    options: AdaptOptions | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> AdaptReport:
    """Fine-tune the model at ``base`` on ``pairs`` and save it to ``output``.

    ``progress(step, steps, loss)`` is called after every step."""
    opts = options or AdaptOptions()
    if len(pairs) < 2:
        raise InvalidInput(
            f"adaptation needs at least 2 docstring/code pairs, found {len(pairs)}; "
            "point it at a repository with documented functions"
        )
    if opts.batch_size < 2 or opts.epochs < 1 or opts.max_seq_length < 8:
        raise ConfigError(f"adaptation needs batch_size >= 2, epochs >= 1, seq len >= 8: {opts}")
    import torch  # heavy: import on use
    from sentence_transformers import SentenceTransformer

    if opts.threads is not None:
        torch.set_num_threads(max(1, opts.threads))
    torch.manual_seed(opts.seed)
    try:
        model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the model to adapt from {base}: {exc}") from exc
    model.max_seq_length = opts.max_seq_length
    batches = _batches(pairs, opts)
    steps = len(batches)
    optimizer = torch.optim.AdamW(model.parameters(), lr=opts.learning_rate)
    warm = max(1, int(steps * opts.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    for step, batch in enumerate(batches, 1):
        loss = _loss(model, batch, opts.scale, torch)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.item()))
        if progress is not None:
            progress(step, steps, losses[-1])
    seconds = time.perf_counter() - start
    model.eval()
    output.mkdir(parents=True, exist_ok=True)
    model.save(str(output))
    report = AdaptReport(
        output, str(base), len(pairs), steps, seconds, _mean(losses[:10]), _mean(losses[-10:])
    )
    manifest = {**asdict(report), "output": str(output), "options": asdict(opts)}
    (output / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return report


def adapt_repository(
    base_model: str,
    roots: Sequence[Path],
    output: Path,
    limit: int,
    options: AdaptOptions | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Mined, AdaptReport]:
    """Mine at most ``limit`` docstring/code pairs under ``roots`` and adapt ``base_model``
    (a name ``open_embedder`` knows, or a sentence-transformers directory) on them.

    ``output`` must not exist yet: embedding caches are keyed by the model's path, so reusing
    a directory for different weights would serve vectors of the old ones."""
    if output.exists():
        raise InvalidInput(f"{output} already exists; choose a new --output (or remove it)")
    missing = [str(r) for r in roots if not r.is_dir()]
    if missing or not roots:
        raise InvalidInput(f"give existing source directories to mine (not found: {missing})")
    base = packaged_model_path() if is_default_model(base_model) else Path(base_model)
    mined = mine_directory(list(roots), limit)
    return mined, adapt_model(base, mined.pairs, output, options, progress)


def _batches(pairs: Sequence[Pair], opts: AdaptOptions) -> list[list[Pair]]:
    rng = random.Random(opts.seed)
    out: list[list[Pair]] = []
    for _ in range(opts.epochs):
        order = list(pairs)
        rng.shuffle(order)
        # A batch of one has no negatives: the remainder joins only if it has two pairs.
        out.extend(
            order[i : i + opts.batch_size]
            for i in range(0, len(order), opts.batch_size)
            if len(order[i : i + opts.batch_size]) >= 2
        )
    return out


def _loss(model: Any, batch: list[Pair], scale: float, torch: Any) -> Any:
    queries = _embed(model, [p.query for p in batch])
    codes = _embed(model, [p.code for p in batch])
    # Normalised here too: not every model ends in a Normalize module.
    norm = torch.nn.functional.normalize
    scores = scale * norm(queries, dim=-1) @ norm(codes, dim=-1).T
    labels = torch.arange(len(batch))
    return torch.nn.functional.cross_entropy(scores, labels)


def _embed(model: Any, texts: list[str]) -> Any:
    return model(model.preprocess(texts))["sentence_embedding"]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan
