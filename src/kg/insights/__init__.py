"""Insights: rules over graph deltas and history, de-duplicated, stored and published."""
