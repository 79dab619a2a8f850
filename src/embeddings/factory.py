"""Choose an Embedder from a model name or path (``KG_EMBEDDING_MODEL``).

* ``all-MiniLM-L6-v2`` (or ``sentence-transformers/all-MiniLM-L6-v2``): the packaged default;
* ``hf:<path>``: a plain transformers encoder, mean-pooled (``TransformersEmbedder``);
* a local directory with ``modules.json``: a sentence-transformers model;
* a local directory whose ``config.json`` names an encoder type (BERT/RoBERTa/T5 families):
  ``TransformersEmbedder``;
* anything else: handed to sentence-transformers (a name already in the local cache).

>>> open_embedder("all-MiniLM-L6-v2").name
'all-MiniLM-L6-v2'
"""

from __future__ import annotations

import json
from pathlib import Path

from embeddings.base import Embedder
from embeddings.hf import TransformersEmbedder
from embeddings.sentence import SentenceEmbedder, is_default_model
from kg.errors import ConfigError

# config.json model_type values that TransformersEmbedder pools correctly.
# fmt: off
ENCODER_TYPES = frozenset({
    "bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "deberta",
    "deberta-v2", "mpnet", "t5", "mt5", "umt5", "codet5",
})
# fmt: on


def open_embedder(model: str, device: str = "cpu", batch_size: int = 64) -> Embedder:
    """The embedder for ``model``; nothing is loaded until its first ``embed``."""
    if not model.strip():
        raise ConfigError("KG_EMBEDDING_MODEL is empty; use all-MiniLM-L6-v2 or a model path")
    if model.startswith("hf:"):
        return TransformersEmbedder(model[3:], device=device, batch_size=batch_size)
    if is_default_model(model):
        return SentenceEmbedder(model, device=device, batch_size=batch_size)
    path = Path(model).expanduser()
    if path.is_dir() and not (path / "modules.json").is_file():
        model_type = _model_type(path)
        if model_type not in ENCODER_TYPES:
            raise ConfigError(
                f"{path} is neither a sentence-transformers model (no modules.json) nor a "
                f"known encoder (config.json model_type={model_type!r}); supported types: "
                f"{', '.join(sorted(ENCODER_TYPES))}"
            )
        return TransformersEmbedder(path, device=device, batch_size=batch_size)
    return SentenceEmbedder(model, device=device, batch_size=batch_size)


def _model_type(path: Path) -> str | None:
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("model_type") if isinstance(config, dict) else None
    return value if isinstance(value, str) else None
