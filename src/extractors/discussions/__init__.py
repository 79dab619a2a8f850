"""Discussions: GitHub issues, pull requests, reviews and comments into the graph.

``models`` validates GitHub JSON (webhook payloads and REST objects); ``convert`` turns validated
objects into a ``Batch``; ``webhook`` and ``export`` read payloads and REST exports from disk;
``github`` fetches a repository's discussions live over the REST API.
"""
