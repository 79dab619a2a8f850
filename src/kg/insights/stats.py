"""Peer statistics for the k-sigma rules, on a log scale: sizes of commits and churn are
heavy-tailed, so "3 sigma" on raw line counts would fire on every moderately large change."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from kg.events.schema import Severity

# A floor on the spread (in log units, about +/-30 %): peers that are all the same size must
# not turn a slightly larger change into an "infinite sigma" outlier.
MIN_STD = 0.25


@dataclass(frozen=True, slots=True)
class Deviation:
    z: float
    mean: float  # of log1p(sample)
    std: float
    peers: int

    @property
    def typical(self) -> float:
        """The peers' typical value back on the original scale."""
        return math.expm1(self.mean)


def deviation(
    value: float, sample: Sequence[float], k: float, *, min_peers: int = 10
) -> Deviation | None:
    """How far above its peers ``value`` is, when at least ``k`` sigma; None otherwise."""
    if len(sample) < min_peers:
        return None
    logs = [math.log1p(max(0.0, x)) for x in sample]
    mean = statistics.fmean(logs)
    std = max(statistics.pstdev(logs, mean), MIN_STD)
    z = (math.log1p(max(0.0, value)) - mean) / std
    return Deviation(z, mean, std, len(sample)) if z >= k else None


def severity_for(z: float, k: float) -> Severity:
    """Severity grows with the deviation: k sigma is a warning, 2k sigma is critical."""
    if z >= 2 * k:
        return "critical"
    return "warning" if z >= k else "info"
