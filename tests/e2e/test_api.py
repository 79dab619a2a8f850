"""The GraphQL API end to end: real store, real bus, real vector index, the real ASGI app.

HTTP goes through httpx's ASGI transport; subscriptions through a real uvicorn server on
127.0.0.1 with the ``gql`` client (graphql-transport-ws) and a raw ``websockets`` client
speaking the legacy graphql-ws protocol.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import websockets
from api_support import (
    SETTINGS,
    InstrumentedStore,
    data_of,
    delta_event,
    gql_post,
    http_client,
    publish_until,
    running_server,
)
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from api.app import create_app, create_lifespan_app
from kg.events.base import EventBus
from kg.model import Batch, Entity, EntityKind, entity_id
from kg.runtime import open_runtime
from kg.service import GraphService
from kg.settings import Settings
from kg.stores.base import GraphStore

if TYPE_CHECKING:
    from conftest import Demo

GEN_FUNCTIONS = 100  # conftest.GEN_FUNCTIONS: generated functions in gen.py

# -- nodes ---------------------------------------------------------------------------------

NODE_QUERY = """
query($id: ID!) {
  node(id: $id) {
    __typename id name repo
    ... on Function {
      qualname path language signature docstring
      span { startLine endLine }
      file { id path }
      definedIn { __typename id name }
    }
  }
}"""


async def test_node_resolves_a_function_with_its_fields(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    data = await data_of(client, NODE_QUERY, id=demo.url.id)
    node = data["node"]
    assert node["__typename"] == "Function"
    assert node["id"] == demo.url.id
    assert (node["name"], node["qualname"], node["repo"]) == ("url", "Page.url", demo.name)
    assert node["signature"] == "(self) -> str"
    assert node["span"] == {"startLine": 5, "endLine": 8}
    assert node["file"] == {"id": demo.files["pkg/app.py"].id, "path": "pkg/app.py"}
    assert node["definedIn"] == {"__typename": "Class", "id": demo.page.id, "name": "Page"}


async def test_nodes_keeps_order_and_nulls_and_rejects_malformed_ids(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    missing = entity_id(EntityKind.FUNCTION, demo.name, "nowhere.py::f")
    ids = [demo.files["gen.py"].id, missing, demo.commit.id, demo.ada.id]
    data = await data_of(
        client, "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", ids=ids
    )
    assert data["nodes"] == [
        {"__typename": "File", "id": ids[0]},
        None,
        {"__typename": "Commit", "id": ids[2]},
        {"__typename": "Person", "id": ids[3]},
    ]
    body = await gql_post(client, '{ node(id: "no-kind-here") { id } }')
    assert body["data"] == {"node": None}
    assert "is not a node id" in body["errors"][0]["message"]


async def test_commit_and_person_fields(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($id: ID!) { node(id: $id) { ... on Commit {
        sha summary message time author { name email commits { totalCount } }
        files { edges { node { id } kind provenance } } } } }"""
    commit = (await data_of(client, q, id=demo.commit.id))["node"]
    assert commit["sha"] == "a" * 40
    assert commit["summary"] == "first"
    assert commit["time"].startswith("2024-05-01T12:00:00")
    assert commit["author"] == {
        "name": "Ada",
        "email": "ada@example.com",
        "commits": {"totalCount": 1},
    }
    assert commit["files"]["edges"] == [
        {"node": {"id": demo.files["pkg/util.py"].id}, "kind": "MODIFIES", "provenance": "git:log"}
    ]


# -- connections ---------------------------------------------------------------------------

FILES_PAGE = """
query($repo: String!, $first: Int!, $after: String, $prefix: String) {
  repository(name: $repo) {
    name root
    files(first: $first, after: $after, pathPrefix: $prefix) {
      totalCount
      edges { cursor node { path } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_files_paginate_with_cursors_to_the_end(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    seen: list[str] = []
    after: str | None = None
    for _ in range(10):
        data = await data_of(client, FILES_PAGE, repo=demo.name, first=3, after=after, prefix=None)
        files = data["repository"]["files"]
        assert files["totalCount"] == 4
        seen += [e["node"]["path"] for e in files["edges"]]
        if not files["pageInfo"]["hasNextPage"]:
            break
        after = files["pageInfo"]["endCursor"]
        assert after == files["edges"][-1]["cursor"]
    assert sorted(seen) == ["gen.py", "pkg/app.py", "pkg/cli.py", "pkg/util.py"]
    assert len(seen) == len(set(seen))
    data = await data_of(client, FILES_PAGE, repo=demo.name, first=10, after=None, prefix="pkg/")
    assert data["repository"]["root"] == "/x"
    assert data["repository"]["files"]["totalCount"] == 3
    bad = await gql_post(client, FILES_PAGE, repo=demo.name, first=1, after="bm9wZQ==", prefix=None)
    assert "is not a cursor of this list" in bad["errors"][0]["message"]


async def test_symbols_filter_by_kind_and_name(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($repo: String!, $kinds: [SymbolKind!], $name: String, $after: String) {
      repository(name: $repo) { symbols(first: 60, kinds: $kinds, name: $name, after: $after) {
        totalCount edges { node { __typename id qualname } } pageInfo { hasNextPage endCursor } }
      } }"""
    classes = (await data_of(client, q, repo=demo.name, kinds=["CLASS"]))["repository"]["symbols"]
    assert classes["totalCount"] == 2
    assert sorted(
        (e["node"]["__typename"], e["node"]["id"], e["node"]["qualname"]) for e in classes["edges"]
    ) == sorted([("Class", demo.page.id, "Page"), ("Class", demo.special.id, "SpecialPage")])
    named = (await data_of(client, q, repo=demo.name, name="url"))["repository"]["symbols"]
    assert [e["node"]["qualname"] for e in named["edges"]] == ["Page.url"]
    functions = (await data_of(client, q, repo=demo.name, kinds=["FUNCTION"]))["repository"][
        "symbols"
    ]
    assert functions["totalCount"] == GEN_FUNCTIONS + 4
    assert functions["pageInfo"]["hasNextPage"]
    rest = await data_of(
        client, q, repo=demo.name, kinds=["FUNCTION"], after=functions["pageInfo"]["endCursor"]
    )
    page2 = rest["repository"]["symbols"]
    assert len(functions["edges"]) + len(page2["edges"]) == GEN_FUNCTIONS + 4
    assert not page2["pageInfo"]["hasNextPage"]


async def test_file_symbols_members_and_imports(client: httpx.AsyncClient, demo: Demo) -> None:
    q = """query($id: ID!) { node(id: $id) { ... on File {
        all: symbols { totalCount edges { node { __typename } } }
        symbols(kinds: [CLASS, FUNCTION]) { totalCount edges { node { qualname
          definedIn { __typename }
          ... on Class { members { edges { node { qualname } } } } } } }
        imports { totalCount edges { node { id } kind confidence provenance } }
        importedBy { edges { node { __typename ... on Symbol { path } } } }
        repository { name } } } }"""
    f = (await data_of(client, q, id=demo.files["pkg/app.py"].id))["node"]
    assert f["all"]["totalCount"] == 5
    assert f["all"]["edges"][0]["node"]["__typename"] == "Module"
    symbols = [e["node"] for e in f["symbols"]["edges"]]
    assert [s["qualname"] for s in symbols] == ["Page", "Page.url", "Page.title", "SpecialPage"]
    assert [s["definedIn"]["__typename"] for s in symbols] == ["Module", "Class", "Class", "Module"]
    assert sorted(e["node"]["qualname"] for e in symbols[0]["members"]["edges"]) == [
        "Page.title",
        "Page.url",
    ]
    assert f["imports"] == {
        "totalCount": 1,
        "edges": [
            {
                "node": {"id": demo.modules["pkg/util.py"].id},
                "kind": "IMPORTS",
                "confidence": 1.0,
                "provenance": "code:import",
            }
        ],
    }
    assert f["importedBy"]["edges"] == [{"node": {"__typename": "Module", "path": "pkg/cli.py"}}]
    assert f["repository"] == {"name": demo.name}


# -- call graph ----------------------------------------------------------------------------

CALLERS = """
query($id: ID!, $depth: Int!, $first: Int!, $after: String) {
  node(id: $id) { ... on Function {
    callers(depth: $depth, first: $first, after: $after) {
      totalCount
      edges { node { id name } depth confidence provenance path }
      pageInfo { hasNextPage endCursor }
    }
  } }
}"""


async def test_callers_depth_two_with_confidences_and_paths(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    data = await data_of(client, CALLERS, id=demo.title.id, depth=2, first=10)
    callers = data["node"]["callers"]
    assert callers["totalCount"] == 2
    assert callers["edges"] == [
        {
            "node": {"id": demo.url.id, "name": "url"},
            "depth": 1,
            "confidence": 0.8,
            "provenance": "code:self-method",
            "path": [demo.title.id, demo.url.id],
        },
        {
            "node": {"id": demo.main.id, "name": "main"},
            "depth": 2,
            "confidence": pytest.approx(0.72),
            "provenance": "code:name-match",
            "path": [demo.title.id, demo.url.id, demo.main.id],
        },
    ]
    one = await data_of(client, CALLERS, id=demo.title.id, depth=1, first=10)
    assert [e["node"]["name"] for e in one["node"]["callers"]["edges"]] == ["url"]


async def test_callers_paginate_and_callees_go_the_other_way(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    ids: list[str] = []
    after = None
    while True:
        data = await data_of(client, CALLERS, id=demo.slugify.id, depth=1, first=40, after=after)
        conn = data["node"]["callers"]
        assert conn["totalCount"] == GEN_FUNCTIONS + 1
        ids += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(ids) == len(set(ids)) == GEN_FUNCTIONS + 1
    q = """query($id: ID!) { node(id: $id) { ... on Function {
        callees(depth: 3) { edges { node { __typename name } depth } } } } }"""
    callees = (await data_of(client, q, id=demo.main.id))["node"]["callees"]["edges"]
    assert {(e["node"]["name"], e["depth"]) for e in callees} == {
        ("Page", 1),
        ("url", 1),
        ("slugify", 2),
        ("title", 2),
    }
    too_deep = await gql_post(client, CALLERS, id=demo.main.id, depth=50, first=1)
    assert "traversal depth must be between 1 and" in too_deep["errors"][0]["message"]


async def test_dataloaders_bound_store_calls_over_100_functions(
    client: httpx.AsyncClient, store: InstrumentedStore, demo: Demo
) -> None:
    q = """query($repo: String!) {
      repository(name: $repo) { symbols(first: 110, kinds: [FUNCTION]) { edges { node {
        id file { path } definedIn { id }
        ... on Function {
          callers(depth: 2) { totalCount } callees(first: 5) { edges { node { id } } } }
    } } } } }"""
    store.calls.clear()
    data = await data_of(client, q, repo=demo.name)
    nodes = [e["node"] for e in data["repository"]["symbols"]["edges"]]
    assert len(nodes) == GEN_FUNCTIONS + 4
    assert all(n["file"] is not None and n["definedIn"] is not None for n in nodes)
    gen_last = next(
        n for n in nodes if n["file"]["path"] == "gen.py" and n["callers"]["totalCount"] == 0
    )
    assert len(gen_last["callees"]["edges"]) == 2
    # get: the repository, then 1 batch of files; find: 1 page;
    # neighbors: definers 1 + callers 2 levels + callees 1
    assert store.calls == Counter({"find": 1, "get": 2, "neighbors": 4}), store.calls

    files = """query($repo: String!) { repository(name: $repo) { files { edges { node {
        symbols { totalCount } imports { totalCount } } } } } }"""
    store.calls.clear()
    data = await data_of(client, files, repo=demo.name)
    assert (
        sum(e["node"]["symbols"]["totalCount"] for e in data["repository"]["files"]["edges"])
        == GEN_FUNCTIONS + 4 + 2 + 1 + 4  # functions, classes and CONFIG, Page's two, modules
    )
    # symbol walk: file -> module -> top level -> methods -> (none): 4;
    # imports: file -> module (CONTAINS) 1 + IMPORTS of both 1
    assert store.calls == Counter({"find": 1, "get": 1, "neighbors": 6}), store.calls


# -- search --------------------------------------------------------------------------------

SEARCH = """
query($q: String!, $first: Int!, $after: String, $mode: SearchMode!, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, mode: $mode, filter: $filter) {
    edges { cursor score node { __typename id name }
            explanation { signal rank score weight contribution } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_search_joins_hits_with_nodes_and_explains_scores(
    search_client: httpx.AsyncClient,
) -> None:
    client = search_client
    data = await data_of(client, SEARCH, q="slugify title into url slug", first=10, mode="HYBRID")
    hits = data["search"]["edges"]
    names = [h["node"]["name"] for h in hits]
    assert names[0] == "slugify"
    assert "slug" not in names  # the indexed entity that is gone from the graph is dropped
    assert len(hits) == 3
    top = hits[0]
    assert {s["signal"] for s in top["explanation"]} == {"semantic", "lexical"}
    assert top["score"] == pytest.approx(sum(s["contribution"] for s in top["explanation"]))
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


async def test_search_pages_modes_and_filters(search_client: httpx.AsyncClient) -> None:
    client = search_client
    first = await data_of(client, SEARCH, q="page url title", first=1, mode="HYBRID")
    assert first["search"]["pageInfo"]["hasNextPage"]
    after = first["search"]["pageInfo"]["endCursor"]
    second = await data_of(client, SEARCH, q="page url title", first=1, after=after, mode="HYBRID")
    assert second["search"]["edges"][0]["node"]["id"] != first["search"]["edges"][0]["node"]["id"]
    lexical = await data_of(client, SEARCH, q="slugify", first=5, mode="LEXICAL")
    edges = lexical["search"]["edges"]
    assert [e["node"]["name"] for e in edges] == ["slugify"]
    assert [s["signal"] for s in edges[0]["explanation"]] == ["lexical"]
    only_classes = await data_of(
        client, SEARCH, q="page", first=5, mode="SEMANTIC", filter={"kinds": ["Class"]}
    )
    assert [e["node"]["__typename"] for e in only_classes["search"]["edges"]] == ["Class"]
    empty = await gql_post(client, SEARCH, q="  ", first=5, mode="HYBRID")
    assert "`query` is empty" in empty["errors"][0]["message"]


# -- safety --------------------------------------------------------------------------------


async def test_query_depth_limit_rejects_deep_queries(client: httpx.AsyncClient) -> None:
    inner = "id"
    for _ in range(SETTINGS.max_query_depth):
        inner = f"... on Function {{ callers {{ edges {{ node {{ {inner} }} }} }} }}"
    body = await gql_post(client, f'{{ node(id: "Function:x") {{ {inner} }} }}')
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_alias_limit_rejects_alias_floods(client: httpx.AsyncClient, demo: Demo) -> None:
    fields = " ".join(f"a{i}: repositories {{ name }}" for i in range(SETTINGS.max_aliases + 1))
    body = await gql_post(client, f"{{ {fields} }}")
    assert body.get("data") is None
    assert "aliases found" in body["errors"][0]["message"]
    ok = " ".join(f"a{i}: repositories {{ name }}" for i in range(3))
    assert {"name": demo.name} in (await data_of(client, f"{{ {ok} }}"))["a2"]


async def test_internal_errors_are_masked_with_a_logged_correlation_id(
    demo_store: GraphStore, bus: EventBus, demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    failing = InstrumentedStore(demo_store, fail=["stats"])
    async with http_client(GraphService(failing, None, bus)) as c:
        with caplog.at_level(logging.ERROR, logger="api.errors"):
            body = await gql_post(
                c, "query($r: String) { stats(repo: $r) { kind count } }", r=demo.name
            )
        error = body["errors"][0]
        assert "secret" not in json.dumps(body)
        ref = error["extensions"]["correlationId"]
        assert f"ref {ref}" in error["message"]
        assert any(
            ref in r.getMessage() and "/secret/stats.db" in r.getMessage() for r in caplog.records
        )
        # codekg's own errors are not masked: they tell the user what to do
        body = await gql_post(c, '{ search(query: "x") { edges { score } } }')
        assert "runs without a vector index" in body["errors"][0]["message"]


# -- app: http, graphiql, cors ---------------------------------------------------------------


async def test_get_queries_healthz_and_cors(client: httpx.AsyncClient, demo: Demo) -> None:
    r = await client.get("/graphql", params={"query": "{ repositories { name } }"})
    assert {"name": demo.name} in r.json()["data"]["repositories"]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.options(
        "/graphql",
        headers={"Origin": "http://ide.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.headers["access-control-allow-origin"] == "http://ide.example"
    stats = await data_of(
        client, "query($r: String) { stats(repo: $r) { kind count } }", r=demo.name
    )
    counts = {s["kind"]: s["count"] for s in stats["stats"]}
    assert counts["Function"] == GEN_FUNCTIONS + 4
    assert counts["CALLS"] == 4 + 2 * GEN_FUNCTIONS - 1


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" else None
        if url:
            self.refs.append((url, a.get("integrity")))


async def test_graphiql_is_served_from_vendored_assets_only(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "<title>codekg GraphiQL</title>" in r.text
    assert "unpkg.com" not in r.text
    parser = _Assets()
    parser.feed(r.text)
    assets = [(u, i) for u, i in parser.refs if not u.startswith("data:")]
    assert len(assets) == 7
    for url, integrity in assets:
        assert url.startswith("/graphiql-static/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert integrity is not None
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url


# -- subscriptions over a real server --------------------------------------------------------


SUBSCRIPTION = """subscription($repo: String, $kinds: [String!]) {
  graphChanged(repo: $repo, kinds: $kinds) {
    repo added removed relationsAdded kinds paths addedCount removedCount } }"""


async def test_graph_changed_over_graphql_transport_ws(
    demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    app = create_app(SETTINGS, GraphService(demo_store, None, bus), keep_alive_interval=0.2)
    async with running_server(app) as port:
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
        )
        async with Client(transport=transport) as session:
            loop = asyncio.get_running_loop()
            got: asyncio.Future[dict[str, Any]] = loop.create_future()

            async def consume() -> None:
                agen = session.subscribe(
                    gql(SUBSCRIPTION), variable_values={"repo": demo.name, "kinds": ["Function"]}
                )
                async for result in agen:
                    got.set_result(result)
                    break

            consumer = asyncio.create_task(consume())
            other_repo = delta_event("other", "File:x")
            fid = demo.main.id
            await asyncio.wait_for(
                publish_until(bus, got, [other_repo, delta_event(demo.name, fid)]), 15
            )
            await consumer
            assert transport.subprotocol == "graphql-transport-ws"

            # queries over the same long-lived connection see the graph as it is now
            new = Entity.make(EntityKind.FUNCTION, demo.name, "pkg/new.py::fresh", name="fresh")
            node_q = gql("query($id: ID!) { node(id: $id) { id } }")
            before = await session.execute(node_q, variable_values={"id": new.id})
            await demo_store.apply(Batch(repo=demo.name, entities=[new]))
            after = await session.execute(node_q, variable_values={"id": new.id})
            assert (before, after) == ({"node": None}, {"node": {"id": new.id}})
    change = got.result()["graphChanged"]
    assert change == {
        "repo": demo.name,
        "added": [fid],
        "removed": ["Function:gone"],
        "relationsAdded": 2,
        "kinds": ["Function"],
        "paths": ["pkg/new.py"],
        "addedCount": 1,
        "removedCount": 1,
    }


async def test_graph_changed_over_legacy_graphql_ws_with_keep_alive(
    demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    lifecycle: list[str] = []

    @contextlib.asynccontextmanager
    async def open_service() -> AsyncIterator[GraphService]:
        lifecycle.append("open")
        yield GraphService(demo_store, None, bus)
        lifecycle.append("close")

    async with (
        running_server(
            create_lifespan_app(SETTINGS, open_service, keep_alive_interval=0.2)
        ) as port,
        websockets.connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=[websockets.Subprotocol("graphql-ws")]
        ) as ws,
    ):
        assert ws.subprotocol == "graphql-ws"
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "type": "start",
                    "id": "1",
                    "payload": {"query": SUBSCRIPTION, "variables": {"repo": demo.name}},
                }
            )
        )
        loop = asyncio.get_running_loop()
        got: asyncio.Future[dict[str, Any]] = loop.create_future()
        kinds_seen: set[str] = set()

        async def read() -> None:
            while not got.done():
                msg = json.loads(await ws.recv())
                kinds_seen.add(msg["type"])
                if msg["type"] == "data":
                    got.set_result(msg)

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.5)  # long enough for a keep-alive or two
        await asyncio.wait_for(publish_until(bus, got, [delta_event(demo.name, demo.url.id)]), 15)
        await reader
        await ws.send(json.dumps({"type": "stop", "id": "1"}))
    assert lifecycle == ["open", "close"]  # the app's lifespan owned the service
    msg = got.result()
    assert msg["id"] == "1"
    assert msg["payload"]["data"]["graphChanged"]["added"] == [demo.url.id]
    assert "ka" in kinds_seen


# -- a real project through the real pipeline --------------------------------------------------

PROJECT = {
    "shop/__init__.py": "",
    "shop/money.py": (
        "def cents(amount: float) -> int:\n"
        '    """Convert an amount to whole cents."""\n'
        "    return round(amount * 100)\n"
    ),
    "shop/cart.py": (
        "from shop.money import cents\n\n\n"
        "class Cart:\n"
        "    def total(self) -> int:\n"
        "        return sum(cents(p) for p in self.prices())\n\n"
        "    def prices(self) -> list[float]:\n"
        "        return [1.5, 2.25]\n\n\n"
        "def checkout() -> int:\n"
        "    return Cart().total()\n"
    ),
}


@pytest.fixture
def shop_repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    for rel, text in PROJECT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "HOME": str(tmp_path),
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "Add the cart"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


async def test_api_over_a_project_indexed_by_the_pipeline(tmp_path: Path, shop_repo: Path) -> None:
    root = shop_repo
    settings = Settings(_env_file=None, graph_url=f"sqlite:///{tmp_path}/g.db", embed=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root, repo="shop")
        async with http_client(rt.service()) as client:
            q = """{ repository(name: "shop") {
                files(pathPrefix: "shop/cart") { edges { node { path
                  symbols(kinds: [CLASS, FUNCTION]) { edges { node { name definedIn { name } } } }
                  imports { edges { node { __typename name } provenance } } } } }
                commits { edges { node { summary author { email } } } }
                symbols(name: "cents") { edges { node { ... on Function {
                  signature docstring callers(depth: 3) { edges { node { name } depth } } } } } }
            } }"""
            repo = (await data_of(client, q))["repository"]
    [cart] = [e["node"] for e in repo["files"]["edges"]]
    assert cart["path"] == "shop/cart.py"
    defined = {e["node"]["name"]: e["node"]["definedIn"]["name"] for e in cart["symbols"]["edges"]}
    assert defined == {
        "Cart": "shop.cart",
        "total": "Cart",
        "prices": "Cart",
        "checkout": "shop.cart",
    }
    assert {e["node"]["name"] for e in cart["imports"]["edges"]} & {"shop.money", "money.py"}
    assert repo["commits"]["edges"] == [
        {"node": {"summary": "Add the cart", "author": {"email": "ada@example.com"}}}
    ]
    [cents] = [e["node"] for e in repo["symbols"]["edges"]]
    assert cents["signature"] == "cents(amount: float) -> int"
    assert {(e["node"]["name"], e["depth"]) for e in cents["callers"]["edges"]} == {
        ("total", 1),
        ("checkout", 2),
    }
