"""Nested source spans: which scope/block/loop is innermost at a byte offset, in O(log n).

Tree nodes nest properly, so the innermost span at every offset is piecewise constant; one sweep
turns the spans into sorted breakpoints and a lookup is a bisect. No recursion, whatever depth.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence


class Spans:
    """Spans ``(start, end)`` (end exclusive), identified by their index in the input."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.spans = list(spans)
        self.parent: list[int] = [-1] * len(self.spans)
        # The innermost span is ``innermost[i]`` from offset ``breaks[i]`` to the next break;
        # hot loops bisect these lists themselves instead of calling ``at``.
        self.breaks: list[int] = []
        self.innermost: list[int] = []
        given = self.spans
        stack: list[int] = []
        # (start, -end, index): outer spans before the inner ones they share a start with,
        # equal spans in input order.
        for start, _, i in sorted([(s, -e, i) for i, (s, e) in enumerate(given)]):
            while stack and given[stack[-1]][1] <= start:
                done = stack.pop()
                self._emit(given[done][1], stack[-1] if stack else -1)
            self.parent[i] = stack[-1] if stack else -1
            self._emit(start, i)
            stack.append(i)
        while stack:
            done = stack.pop()
            self._emit(given[done][1], stack[-1] if stack else -1)

    def _emit(self, pos: int, val: int) -> None:
        if self.breaks and self.breaks[-1] == pos:
            self.innermost[-1] = val
        else:
            self.breaks.append(pos)
            self.innermost.append(val)

    def at(self, pos: int) -> int:
        """Index of the innermost span containing ``pos``, or -1."""
        i = bisect_right(self.breaks, pos) - 1
        return self.innermost[i] if i >= 0 else -1

    def outermost_within(self, pos: int, floor: int) -> int:
        """The outermost span containing ``pos`` that starts at or after ``floor``, or -1."""
        best = -1
        i = self.at(pos)
        while i >= 0 and self.spans[i][0] >= floor:
            best = i
            i = self.parent[i]
        return best
