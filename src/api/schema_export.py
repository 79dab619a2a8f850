"""Print the GraphQL SDL: ``python -m api.schema_export > schema.graphql`` (``make schema``)."""

from __future__ import annotations

import sys

from strawberry.printer import print_schema

from api.schema import build_schema
from kg.settings import Settings


def sdl() -> str:
    # explicit values: the SDL must not depend on the environment or a .env file
    settings = Settings(_env_file=None, graph_url="sqlite:///:memory:")
    return print_schema(build_schema(settings)) + "\n"


def main() -> None:
    sys.stdout.write(sdl())


if __name__ == "__main__":
    main()
