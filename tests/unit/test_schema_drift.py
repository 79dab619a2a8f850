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
        "impact(of: ID!, depth: Int! = 3",
        "path(from: ID!, to: ID!, maxDepth: Int! = 6",
        "context(for: ID!, budgetTokens: Int!): ContextPack!",
        "ingest(source: String!): Job!",
        "annotate(node: ID!, text: String!): Annotation!",
        "feedback(searchId: String!, nodeId: ID!, useful: Boolean!): Feedback!",
        "ingestProgress(job: ID!): Job!",
        "insights(repo: String = null, minSeverity: Severity! = INFO, paths: [String!] = null)",
        "type Issue implements Discussion & Node {",
        "type PullRequest implements Discussion & Node {",
        "type Comment implements Discussion & Node {",
        "type Insight implements Node {",
        "interface Tracked implements Node {",
        "searchId: String!",
    ):
        assert needle in text, needle


def test_every_list_is_a_connection_with_total_count_and_page_info() -> None:
    blocks = [b for b in sdl().split("\n}\n") if "Connection {" in b and "\ntype " in "\n" + b]
    assert len(blocks) >= 8
    for block in blocks:
        assert "pageInfo: PageInfo!" in block, block
        # search hits are a ranked window, not a countable set: no totalCount there
        if "type SearchConnection" not in block:
            assert "totalCount: Int!" in block, block
