"""codekg benchmarks (``make bench``): each suite prints its figures; none is part of the tests.

    python -m bench                      # every suite, one after the other
    python -m bench index stores         # some suites
    python -m bench.index --repo ~/src/flask   # one suite with its own options (--help)

Suites: index (indexing throughput, incremental edits, search latency), stores (SQLite vs
Neo4j bulk load and traversals at 100k nodes), search (filtered hybrid/dense/lexical latency at
100k entities, embedding throughput), api (GraphQL query p95, subscription fan-out), live
(editor loop save -> graphChanged, Kafka routing; needs --repo or /tmp/networkx).
Compare ratios within one run: this machine is shared and noisy.
"""

from __future__ import annotations

import subprocess
import sys

SUITES = ("index", "stores", "search", "api", "live")


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    unknown = [a for a in argv if a not in SUITES]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    failed = []
    for name in argv or SUITES:
        print(f"== bench {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False).returncode:
            failed.append(name)
    if failed:
        print(f"suites that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
