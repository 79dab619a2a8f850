"""The checked-in schema.graphql is exactly what the code's schema prints."""

from __future__ import annotations

from pathlib import Path

from api.schema_export import sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_checked_in_schema_matches_code() -> None:
    checked_in = SCHEMA_FILE.read_text(encoding="utf-8")
    assert checked_in == sdl(), (
        "schema.graphql differs from the schema the code builds; run `make schema` and commit "
        "the result"
    )


def test_schema_exposes_relay_and_forward_compatible_names() -> None:
    text = sdl()
    for needle in (
        "interface Node {",
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "type PageInfo {",
        "graphChanged(repo: String = null, kinds: [String!] = null): GraphChange!",
        "search(query: String!, first: Int! = 10",
    ):
        assert needle in text
