"""The test services' helper: a KRaft cluster id that kafka-storage accepts."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from types import ModuleType

PROBE = Path(__file__).resolve().parents[2] / "services" / "probe.py"


def probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("codekg_service_probe", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cluster_ids_are_kafka_uuids_that_never_read_as_an_option() -> None:
    module = probe()
    ids = [module.cluster_id() for _ in range(5000)]  # about 78 would start with "-" by chance
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)
    for i in ids[:100]:
        assert len(i) == 22 and len(base64.urlsafe_b64decode(i + "==")) == 16
