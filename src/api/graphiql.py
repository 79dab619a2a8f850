"""GraphiQL served from vendored npm assets instead of a CDN.

``static/graphiql/`` holds the exact files strawberry's GraphiQL page loads from unpkg (same
package versions, byte-identical, so the page's subresource-integrity hashes still hold), each
directory with its package's licence. We render strawberry's page with those URLs pointed at
``/graphiql-static/``; if a strawberry upgrade changes the URLs, startup fails loudly here
instead of a browser silently loading from the internet.
"""

from __future__ import annotations

from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

from kg.errors import ConfigError

STATIC_DIR = Path(__file__).parent / "static" / "graphiql"
STATIC_PREFIX = "/graphiql-static"

# unpkg URL in strawberry's page -> file under STATIC_DIR
ASSETS: dict[str, str] = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": (
        "react@18.2.0/react.production.min.js"
    ),
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom@18.2.0/react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js-cookie@3.0.5/js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql@3.8.3/graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql@3.8.3/graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": (
        "plugin-explorer@1.0.2/style.css"
    ),
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer@1.0.2/index.umd.js"
    ),
}


def graphiql_html(root_path: str = "") -> str:
    """Strawberry's GraphiQL page with every CDN asset replaced by its vendored copy."""
    html = get_graphql_ide_html("graphiql")
    missing = [url for url in ASSETS if url not in html]
    if missing:
        raise ConfigError(
            f"strawberry's GraphiQL page no longer loads {missing}; re-vendor the assets it "
            f"loads now into {STATIC_DIR} and update api.graphiql.ASSETS"
        )
    for url, local in ASSETS.items():
        html = html.replace(url, f"{root_path}{STATIC_PREFIX}/{local}")
    html = html.replace("<title>Strawberry GraphiQL</title>", "<title>codekg GraphiQL</title>")
    if "https://unpkg.com" in html:
        raise ConfigError(
            "strawberry's GraphiQL page loads an asset that is not vendored; add it to "
            "api.graphiql.ASSETS and static/graphiql/"
        )
    return html
