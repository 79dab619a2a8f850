"""Author identity merging: one Person per human, whatever spellings the history holds.

Identities are merged when they share an email (case-insensitive; ``.mailmap`` is applied by
git through ``%aN``/``%aE`` and the recorded spelling is kept as an alias), or when they share a
full name (two words or more) and the domain of the email. The canonical key of a person is the
email of the cluster's oldest commit, so keys stay put as history grows; only a new commit that
bridges two old clusters can move the younger cluster's key (its old Person is dropped then)::

    people = People()
    people.add("Ada Lovelace", "ada@example.com", "ada", "ADA@example.com")
    people.key_of("Ada Lovelace", "ada@example.com")      # 'ada@example.com'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kg.model import Entity, EntityKind


def _email_node(email: str) -> str | None:
    email = email.strip().lower()
    return f"e:{email}" if email else None


def _name_node(name: str, email: str) -> str | None:
    name = " ".join(name.lower().split())
    domain = email.strip().lower().rpartition("@")[2]
    # A single word ("root", "admin") says too little about who it is to merge on.
    if " " not in name or not domain or "@" not in email:
        return None
    return f"n:{name}@{domain}"


def person_key(name: str, email: str) -> str:
    """The key of an identity seen alone (no cluster known)."""
    email = email.strip().lower()
    return email or f"name:{' '.join(name.lower().split())}"


@dataclass(slots=True)
class _Cluster:
    key: str
    names: Counter[str] = field(default_factory=Counter)
    emails: set[str] = field(default_factory=set)
    commits: int = 0


class People:
    """Union-find over the identity spellings of one history, oldest commit first."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._first: dict[str, str] = {}  # root node -> canonical key (oldest identity)
        self._age: dict[str, int] = {}
        self._spellings: dict[str, tuple[Counter[str], set[str], int]] = {}

    def _find(self, node: str) -> str:
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            if self._age[rb] < self._age[ra]:
                ra, rb = rb, ra
            self._parent[rb] = ra  # the older cluster's canonical key survives

    def add(self, name: str, email: str, raw_name: str = "", raw_email: str = "") -> None:
        """One commit's author: after mailmap (``name``/``email``) and as recorded."""
        anchor = _email_node(email) or f"k:{person_key(name, email)}"
        nodes = [anchor]
        for n, e in ((name, email), (raw_name or name, raw_email or email)):
            nodes += [x for x in (_email_node(e), _name_node(n, e)) if x is not None]
        for node in nodes:
            if node not in self._parent:
                self._parent[node] = node
                self._first[node] = person_key(name, email)
                self._age[node] = len(self._age)
        for node in nodes[1:]:
            self._union(anchor, node)
        root = self._find(anchor)
        names, emails, count = self._spellings.get(root, (Counter(), set(), 0))
        names.update(n for n in {name, raw_name} if n)
        emails.update(e.strip().lower() for e in (email, raw_email) if e.strip())
        self._spellings[root] = (names, emails, count + 1)

    def key_of(self, name: str, email: str) -> str:
        node = _email_node(email) or f"k:{person_key(name, email)}"
        if node not in self._parent:
            return person_key(name, email)
        return self._first[self._find(node)]

    def clusters(self) -> list[_Cluster]:
        merged: dict[str, _Cluster] = {}
        for root, (names, emails, count) in self._spellings.items():
            top = self._find(root)
            c = merged.setdefault(top, _Cluster(key=self._first[top]))
            c.names.update(names)
            c.emails |= emails
            c.commits += count
        return sorted(merged.values(), key=lambda c: c.key)

    def entities(self, repo: str, owner: str) -> list[Entity]:
        """One Person per cluster; ``aliases`` lists every spelling seen."""
        out: list[Entity] = []
        for c in self.clusters():
            name = c.names.most_common(1)[0][0] if c.names else c.key
            out.append(
                Entity.make(
                    EntityKind.PERSON,
                    repo,
                    c.key,
                    name=name,
                    owner=owner,
                    attrs={
                        "email": c.key if "@" in c.key else "",
                        "emails": sorted(c.emails),
                        "aliases": sorted(c.names),
                        "commits": c.commits,
                    },
                )
            )
        return out
