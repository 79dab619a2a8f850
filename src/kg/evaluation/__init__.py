"""Measuring codekg against external golden data."""
