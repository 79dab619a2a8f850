"""codekg benchmarks (``make bench``): each suite prints its figures; none is part of the tests.

    python -m bench                 # every suite
    python -m bench index --repo ~/src/flask
    python -m bench stores          # SQLite vs Neo4j (needs `scripts/services.sh up`)

Compare ratios within one run: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys

SUITES = ("index",)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="suite")
    modules = {name: importlib.import_module(f"bench.{name}") for name in SUITES}
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, help=(module.__doc__ or "").split("\n")[0]))
    args = parser.parse_args(argv)
    chosen = [args.suite] if args.suite else list(SUITES)
    for name in chosen:
        print(f"== bench {name}", flush=True)
        if not args.suite:
            args = parser.parse_args([name])
        await modules[name].run(args)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
