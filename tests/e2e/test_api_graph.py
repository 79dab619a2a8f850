"""The graph-facing part of the API: discussion and insight types, history, owners,
co-changes, references, impact, paths and context packs, over both stores."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from api_support import InstrumentedStore, data_of, gql_post

from kg.model import Batch, Entity, EntityKind
from kg.stores.base import GraphStore

if TYPE_CHECKING:
    from conftest import Demo


async def test_discussion_types_and_their_edges(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($ids: [ID!]!) { nodes(ids: $ids) {
      __typename id
      ... on Discussion { number title state body url author createdAt
        mentions { totalCount edges { node { id } provenance } }
        comments { totalCount edges { node { id } kind } } }
      ... on Issue { closedBy { edges { node { __typename id } } } }
      ... on PullRequest { closes { edges { node { __typename id } } } }
      ... on Comment { parent { __typename id } }
    } }"""
    ids = [demo.issue.id, demo.pr.id, demo.comment.id]
    issue, pr, comment = (await data_of(client, q, ids=ids))["nodes"]
    assert issue["__typename"] == "Issue"
    assert (issue["number"], issue["title"], issue["state"]) == (
        7,
        "Slugs break on unicode titles",
        "closed",
    )
    assert issue["author"] == "carol"
    assert issue["createdAt"].startswith("2024-05-20T09:00:00")
    assert issue["mentions"]["edges"] == [
        {"node": {"id": demo.slugify.id}, "provenance": "discussion:code-ref"}
    ]
    assert issue["closedBy"]["edges"] == [{"node": {"__typename": "PullRequest", "id": demo.pr.id}}]
    assert pr["closes"]["edges"] == [{"node": {"__typename": "Issue", "id": demo.issue.id}}]
    assert pr["comments"]["edges"] == [{"node": {"id": demo.comment.id}, "kind": "COMMENTS_ON"}]
    assert comment["parent"] == {"__typename": "PullRequest", "id": demo.pr.id}
    assert comment["mentions"]["totalCount"] == 1
    q2 = """query($id: ID!) { node(id: $id) { ... on Function {
        discussions { totalCount edges { node { __typename id } confidence } } } } }"""
    found = (await data_of(client, q2, id=demo.slugify.id))["node"]["discussions"]
    assert found == {
        "totalCount": 1,
        "edges": [{"node": {"__typename": "Issue", "id": demo.issue.id}, "confidence": 0.9}],
    }


HISTORY = """query($id: ID!) { node(id: $id) { ... on Tracked {
  history { totalCount edges { node { sha summary } via change linesAdded linesRemoved } }
  owners { totalCount edges { node { name } commits linesChanged share lastCommitAt } }
} } }"""


async def test_history_and_owners_of_a_symbol_and_a_file(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    url = (await data_of(client, HISTORY, id=demo.url.id))["node"]
    # commit3 touched the file, commit2 the method itself (the symbol-level edge wins)
    assert [(e["node"]["sha"][0], e["via"]) for e in url["history"]["edges"]] == [
        ("c", "file"),
        ("b", "entity"),
    ]
    assert url["history"]["edges"][1]["linesAdded"] == 4
    assert url["owners"]["edges"] == [
        {
            "node": {"name": "Bob"},
            "commits": 2,
            "linesChanged": 9,
            "share": 1.0,
            "lastCommitAt": "2024-07-01T12:00:00+00:00",
        }
    ]
    util = (await data_of(client, HISTORY, id=demo.files["pkg/util.py"].id))["node"]
    assert [e["node"]["summary"] for e in util["history"]["edges"]] == ["page title", "first"]
    owners = util["owners"]["edges"]
    # one commit each: Ada changed more lines
    assert [(o["node"]["name"], o["commits"], o["linesChanged"]) for o in owners] == [
        ("Ada", 1, 10),
        ("Bob", 1, 1),
    ]
    assert [o["share"] for o in owners] == [0.5, 0.5]


async def test_co_changed_references_and_subclasses(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($file: ID!, $fn: ID!, $var: ID!, $cls: ID!) {
      f: node(id: $file) { ... on File { coChanged { totalCount edges { node { path } weight } } } }
      fn: node(id: $fn) { ... on Symbol { references { edges { node { id } provenance } } } }
      v: node(id: $var) { ... on Symbol { referencedBy { edges { node { id } } } } }
      c: node(id: $cls) { ... on Class { subclasses { edges { node { id } kind } } } }
    }"""
    data = await data_of(
        client,
        q,
        file=demo.files["pkg/util.py"].id,
        fn=demo.slugify.id,
        var=demo.config.id,
        cls=demo.page.id,
    )
    assert data["f"]["coChanged"] == {
        "totalCount": 1,
        "edges": [{"node": {"path": "pkg/app.py"}, "weight": 1.0}],
    }
    assert data["fn"]["references"]["edges"] == [
        {"node": {"id": demo.config.id}, "provenance": "code:name-match"}
    ]
    assert data["v"]["referencedBy"]["edges"] == [{"node": {"id": demo.slugify.id}}]
    assert data["c"]["subclasses"]["edges"] == [
        {"node": {"id": demo.special.id}, "kind": "INHERITS"}
    ]


IMPACT = """query($of: ID!, $depth: Int!, $first: Int!, $after: String) {
  impact(of: $of, depth: $depth, first: $first, after: $after) {
    totalCount edges { node { id } depth via confidence path } pageInfo { hasNextPage endCursor }
  } }"""


async def test_impact_of_a_class_includes_its_members_dependents(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    data = await data_of(client, IMPACT, of=demo.page.id, depth=3, first=50)
    edges = {e["node"]["id"]: e for e in data["impact"]["edges"]}
    # main calls Page and Page.url; SpecialPage inherits Page; url/title are Page's own members
    assert set(edges) == {demo.main.id, demo.special.id}
    assert (edges[demo.main.id]["depth"], edges[demo.main.id]["via"]) == (1, "CALLS")
    assert edges[demo.special.id]["via"] == "INHERITS"
    assert edges[demo.special.id]["path"] == [demo.page.id, demo.special.id]


async def test_impact_of_a_file_reaches_importers_and_pages(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    util = demo.files["pkg/util.py"].id
    seen: list[str] = []
    after = None
    while True:
        data = await data_of(client, IMPACT, of=util, depth=2, first=40, after=after)
        impact = data["impact"]
        seen += [e["node"]["id"] for e in impact["edges"]]
        if not impact["pageInfo"]["hasNextPage"]:
            break
        after = impact["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == impact["totalCount"]
    # the app module imports util; url and every gen_* call slugify; main and cli come next
    for expected in (demo.modules["pkg/app.py"], demo.url, demo.main, demo.modules["pkg/cli.py"]):
        assert expected.id in seen
    assert sum(1 for g in demo.gen if g.id in seen) == len(demo.gen)
    bad = await gql_post(client, IMPACT, of=util, depth=99, first=5)
    assert "depth must be between 1 and" in bad["errors"][0]["message"]


PATH = """query($from: ID!, $to: ID!, $directed: Boolean!, $kinds: [PathRelation!]) {
  path(from: $from, to: $to, maxDepth: 4, directed: $directed, kinds: $kinds) {
    length confidence nodes { id } steps { from to kind forward }
  } }"""


async def test_shortest_paths_directed_and_not(client: httpx.AsyncClient, demo: Demo) -> None:
    data = await data_of(
        client, PATH, **{"from": demo.main.id, "to": demo.slugify.id}, directed=True, kinds=None
    )
    path = data["path"]
    assert path["length"] == 2
    assert [n["id"] for n in path["nodes"]] == [demo.main.id, demo.url.id, demo.slugify.id]
    assert [s["kind"] for s in path["steps"]] == ["CALLS", "CALLS"]
    assert path["confidence"] == pytest.approx(0.9)
    back = await data_of(
        client,
        PATH,
        **{"from": demo.slugify.id, "to": demo.main.id},
        directed=True,
        kinds=["CALLS"],
    )
    assert back["path"] is None
    undirected = await data_of(
        client,
        PATH,
        **{"from": demo.slugify.id, "to": demo.main.id},
        directed=False,
        kinds=["CALLS"],
    )
    steps = undirected["path"]["steps"]
    assert [s["forward"] for s in steps] == [False, False]
    assert steps[0] == {
        "from": demo.slugify.id,
        "to": demo.url.id,
        "kind": "CALLS",
        "forward": False,
    }


CONTEXT = """query($id: ID!, $budget: Int!) { context(for: $id, budgetTokens: $budget) {
  node { id } budgetTokens usedTokens omitted
  items { kind node { id } text tokens score reason } } }"""


async def test_context_pack_ranks_items_within_the_token_budget(
    client: httpx.AsyncClient, demo_store: GraphStore, demo: Demo, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    lines = [f"# line {i}" for i in range(1, 30)]
    lines[4:8] = ["    def url(self) -> str:", "        '''The page url.'''", "        return", ""]
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "app.py").write_text("\n".join(lines))
    await demo_store.apply(Batch(repo=demo.name, entities=[_with_root(demo.repo, source)]))
    full = (await data_of(client, CONTEXT, id=demo.url.id, budget=2000))["context"]
    kinds = [i["kind"] for i in full["items"]]
    assert kinds[0] == "CODE"
    assert full["items"][0]["text"].startswith("    def url(self) -> str:")
    assert {"SIGNATURE", "DOCSTRING", "DISCUSSION", "COMMIT"} <= set(kinds)
    assert full["omitted"] == 0
    assert full["usedTokens"] == sum(i["tokens"] for i in full["items"]) <= 2000
    for item in full["items"]:
        assert item["tokens"] == -(-len(item["text"]) // 4)  # ceil(chars / 4)
        assert item["reason"]
    scores = [i["score"] for i in full["items"]]
    assert scores == sorted(scores, reverse=True)
    callers = [
        i for i in full["items"] if i["kind"] == "SIGNATURE" and i["node"]["id"] == demo.main.id
    ]
    assert callers and "calls this" in callers[0]["reason"]

    small = (await data_of(client, CONTEXT, id=demo.url.id, budget=40))["context"]
    assert small["usedTokens"] <= 40
    assert small["omitted"] > 0
    assert small["items"][0]["kind"] == "CODE"
    bad = await gql_post(client, CONTEXT, id=demo.url.id, budget=0)
    assert "budgetTokens=0" in bad["errors"][0]["message"]


def _with_root(repo: Entity, root: Path) -> Entity:
    return Entity.make(
        EntityKind.REPOSITORY, repo.repo, "", name=repo.name, attrs={"root": str(root)}
    )


async def test_insight_nodes_and_repository_lists(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($repo: String!, $id: ID!) {
      repository(name: $repo) {
        insights { totalCount edges { node { id } } }
        issues { totalCount } pullRequests { edges { node { number } } } }
      node(id: $id) { ... on Insight { rule severity title explanation paths time
        evidence { entityIds numbers { name value } entities { __typename id } } } } }"""
    data = await data_of(client, q, repo=demo.name, id=demo.insight.id)
    repo = data["repository"]
    assert repo["insights"]["totalCount"] == 1
    assert repo["issues"]["totalCount"] == 1
    assert repo["pullRequests"]["edges"] == [{"node": {"number": 8}}]
    insight = data["node"]
    assert (insight["rule"], insight["severity"]) == ("hotspot", "WARNING")
    assert insight["paths"] == ["pkg/app.py"]
    assert insight["evidence"] == {
        "entityIds": [demo.files["pkg/app.py"].id],
        "numbers": [{"name": "commits", "value": 2.0}],
        "entities": [{"__typename": "File", "id": demo.files["pkg/app.py"].id}],
    }


async def test_edge_fields_batch_over_100_symbols(
    client: httpx.AsyncClient, store: InstrumentedStore, demo: Demo
) -> None:
    q = """query($repo: String!) { repository(name: $repo) {
      symbols(first: 110, kinds: [FUNCTION]) { edges { node {
        history(first: 3) { totalCount }
        owners(first: 3) { edges { node { name } commits } }
        discussions(first: 3) { totalCount }
        annotations(first: 3) { totalCount }
        references(first: 3) { totalCount }
      } } } } }"""
    store.calls.clear()
    data = await data_of(client, q, repo=demo.name)
    nodes = [e["node"] for e in data["repository"]["symbols"]["edges"]]
    assert len(nodes) == len(demo.gen) + 4
    assert sum(n["discussions"]["totalCount"] for n in nodes) == 2
    assert sum(n["history"]["totalCount"] for n in nodes) > 0
    # get: the repository; find: one page; neighbors: MODIFIES in (symbols and their files in
    # one batch), AUTHORED in, MENTIONS in, ANNOTATES in, REFERENCES out
    assert store.calls == Counter({"get": 1, "find": 1, "neighbors": 5}), store.calls
