"""Docstring/code pair mining and model adaptation, on real source and the real default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embeddings.adapt import MANIFEST, AdaptOptions, adapt_model
from embeddings.factory import open_embedder
from embeddings.pairs import Pair, mine_directory, source_pairs, summary_line
from embeddings.sentence import packaged_model_path
from kg.cli import app
from kg.errors import InvalidInput

SOURCE = '''
import json


def load_config(path):
    """Read a JSON configuration file and return it as a dict.

    Missing files give an empty dict.
    """
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {}


class Stack:
    def push(self, item):
        """Put an item on top of the stack."""
        self.items.append(item)
        return len(self.items)

    def __repr__(self):
        """Show the items of the stack."""
        return f"Stack({self.items})"


def test_load_config():
    """This test checks that configs load."""
    assert load_config("x") == {}


def undocumented(a):
    return a + 1
    return a


def see_other(a):
    """See load_config."""
    return a
    return a
'''


def test_summary_line_is_the_first_sentence_of_a_description() -> None:
    assert summary_line("Return it. Extra words.\n\nMore.") is None  # two words only
    assert summary_line("Return the sum of a and b. Then more.") == "Return the sum of a and b."
    assert summary_line("Split a\n    camelCase name into words\n\nDetails.") == (
        "Split a camelCase name into words"
    )
    assert summary_line("See the other function for details.") is None
    assert summary_line(":param x: the value to use") is None


def test_pairs_take_the_docstring_out_of_the_code() -> None:
    pairs = {p.query: p.code for p in source_pairs(SOURCE)}
    assert set(pairs) == {
        "Read a JSON configuration file and return it as a dict.",
        "Put an item on top of the stack.",
    }
    config = pairs["Read a JSON configuration file and return it as a dict."]
    assert config.startswith("def load_config(path):\n    try:")
    assert "Missing files" not in config and "json.load(fh)" in config
    assert pairs["Put an item on top of the stack."].startswith("def push(self, item):\n")
    assert source_pairs("def broken(:\n") == []


def test_mining_a_directory_skips_tests_dedupes_and_samples(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "pkg" / "b.py").write_text(SOURCE, encoding="utf-8")  # same queries: deduped
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "c.py").write_text(SOURCE.replace("Put", "Place"), encoding="utf-8")
    (tmp_path / "pkg" / "bad.py").write_bytes(b"\xff\xfe not utf-8")
    mined = mine_directory(tmp_path, limit=100)
    assert (len(mined.pairs), mined.files, mined.unreadable) == (2, 2, 1)
    assert len(mine_directory(tmp_path, limit=1).pairs) == 1


def test_adaptation_trains_saves_and_the_model_embeds(tmp_path: Path) -> None:
    pairs = mine_directory(Path(__file__).resolve().parents[2] / "src" / "embeddings", 8).pairs
    assert len(pairs) == 8
    opts = AdaptOptions(batch_size=4, max_seq_length=32, learning_rate=1e-4, threads=1)
    steps: list[int] = []
    report = adapt_model(
        packaged_model_path(), pairs, tmp_path / "m", opts, lambda s, n, loss: steps.append(s)
    )
    assert (report.pairs, report.steps, steps) == (8, 2, [1, 2])
    manifest = json.loads((tmp_path / "m" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["pairs"] == 8 and manifest["options"]["max_seq_length"] == 32
    adapted = open_embedder(str(tmp_path / "m"))
    base = open_embedder("all-MiniLM-L6-v2")
    text = [pairs[0].code]
    (vec,) = adapted.embed(text)
    assert adapted.dim == 384 and sum(x * x for x in vec) == pytest.approx(1.0, abs=1e-4)
    # Training moved the weights: the same text no longer embeds to the base model's vector.
    (before,) = base.embed(text)
    assert max(abs(a - b) for a, b in zip(vec, before, strict=True)) > 1e-3


def test_adaptation_refuses_too_few_pairs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="at least 2"):
        adapt_model(packaged_model_path(), [Pair("q", "c")], tmp_path / "m")


def test_kg_adapt_writes_a_model_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "src" / "b.py").write_text(SOURCE.replace("Put an", "Push an"), encoding="utf-8")
    env = {"KG_EMBEDDING_MODEL": "all-MiniLM-L6-v2"}
    model = tmp_path / "model"
    args = ["adapt", str(tmp_path / "src"), "--output", str(model), "--seq-len", "32"]
    result = CliRunner().invoke(app, [*args, "--threads", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "adapted all-MiniLM-L6-v2 on 3 pairs from 2 files" in result.output
    assert len(open_embedder(str(model)).embed(["load a config file"], role="query")[0]) == 384
    again = CliRunner().invoke(app, args, env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    missing = CliRunner().invoke(app, ["adapt", str(tmp_path / "nope"), "--output", "x"], env=env)
    assert missing.exit_code == 1 and "not found" in missing.output
