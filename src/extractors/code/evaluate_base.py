"""What every part of the evaluator shares: the language :class:`Profile`, the bounds on work
and the state of one evaluation (guards, step budget, memos).

The evaluator is a chain of classes, one concern per module: :class:`EvaluatorBase` (here),
``ModuleEvaluator`` (modules and imports), ``MemberEvaluator`` (members, values, calls),
``LookupEvaluator`` (lexical lookup), ``Evaluator`` (expressions). A class declares the few
methods it needs from a later one as abstract methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.base import Definition
from extractors.code.expr import Expr
from extractors.code.nodes import DefNode, Node
from extractors.code.projects import Projects
from extractors.code.scope_index import RepoIndex

MAX_DEPTH = 40
END = 1 << 30


@dataclass(frozen=True, slots=True)
class Profile:
    """What differs between languages for name binding."""

    language: str
    builtins: frozenset[str] = frozenset()
    class_scope_encloses: bool = False  # Python: a class body is not seen from its methods
    flow_sensitive: bool = True
    # Python: a use sees the latest binding before it. JavaScript: every binding before it
    # (and each function/class declaration, hoisted), as a value may come from any of them.
    rebinding_kills: bool = True
    # Languages of the family whose lookups follow flow although ``flow_sensitive`` is off
    # (JavaScript's do; TypeScript's, like its checker, see every declaration of a scope).
    flow_languages: frozenset[str] = frozenset()
    # Languages where a name bound to a member (``const { v } = x``, ``a = x.v``) stands for
    # its own declaration only: the member is its value, not another site of it (TypeScript).
    member_values: frozenset[str] = frozenset()
    hidden_kinds: frozenset[str] = field(default_factory=lambda: frozenset({"attribute"}))
    # Languages whose files resolve against each other (TypeScript imports JavaScript).
    languages: frozenset[str] = frozenset()
    package_scope: bool = False  # Java/Go/C#: a package's files see each other's names
    global_scope: bool = False  # Ruby/C: top-level names are visible everywhere
    open_classes: bool = False  # members defined apart from their class (Go, Rust, C++)
    suffix_imports: bool = False  # Go/C/Ruby: an import path ends with a project module
    # A module is a site of its own (its first line: Python ``import a``); JavaScript's are
    # namespaces of their exports, written nowhere themselves.
    module_sites: bool = True
    # C/C++ headers (by extension): what a header declares at file, namespace or class level
    # is defined in another file; a use of either finds both.
    headers: frozenset[str] = frozenset()
    # Java: a field and a method may share a name; a call finds the method, any other use
    # the field.
    methods_apart: bool = False
    # Java/C#/Kotlin/PHP/Ruby: a lambda's ``this`` is the one of the method it is written in.
    lambda_receiver: bool = False
    # C#: a function whose ``bases`` name a type (``Tax(this Order o)``) is an extension
    # method, a member of that type's instances where the type declares none of the name.
    extensions: bool = False
    # JavaScript: a function is a constructor too (``new F()``); its instance has the members
    # its body assigns to ``this``.
    function_classes: bool = False
    # Kinds of top-level definitions every file of the family sees (TypeScript ``export as
    # namespace A``: a global name for its module).
    global_kinds: frozenset[str] = frozenset()
    # ECMAScript modules: importers see the names a module exports (its ``all_names``) only.
    exported_only: bool = False

    @property
    def family(self) -> frozenset[str]:
        return self.languages or frozenset({self.language})


class EvaluatorBase:
    """The index, profile, guards and memos every layer of the evaluator uses."""

    def __init__(self, index: RepoIndex, profile: Profile) -> None:
        self.index, self.profile = index, profile
        self.reset()
        self._eval_memo: dict[tuple[str, str, int, int], tuple[Expr, list[Node]]] = {}
        self._deref_memo: dict[tuple[object, ...], list[Node]] = {}
        self._member_memo: dict[tuple[tuple[object, ...], str], list[Node]] = {}
        self._targets_memo: dict[tuple[object, ...], list[Node]] = {}
        self._bases_memo: dict[tuple[object, ...], list[DefNode]] = {}
        self._module_memo: dict[tuple[str, int, str], str | None] = {}
        self._governor_memo: dict[str, str] = {}
        self._governing_memo: dict[str, list[str]] = {}
        self.dependency_memo: dict[str, list[tuple[str, bool]]] = {}
        self._star_memo: dict[str, frozenset[str]] = {}
        self._scope_memo: dict[tuple[str, str, str], list[Node]] = {}
        self._lookup_memo: dict[tuple[str, str, str], list[Node]] = {}
        self._flow_memo: dict[tuple[str, str, str], tuple[list[int], dict[int, list[Node]]]] = {}
        self._outer_memo: dict[tuple[str, str, str], list[Node]] = {}
        self._class_named_memo: dict[tuple[str, str], DefNode | None] = {}
        self._projects: Projects | None = None
        self._global_files: frozenset[str] | None = None
        self._projected_memo: dict[tuple[str, int, tuple[str, ...]], list[Node] | None] = {}
        self._constructors: dict[str, frozenset[str]] = {}
        self._typeparams: dict[str, dict[str, list[Definition]]] = {}
        self._class_memo: dict[tuple[tuple[object, ...], str], list[Node]] = {}
        self.guards = 0  # cycle guards hit so far (see ``_cycle``)
        self.version = index.version

    def reset(self) -> None:
        """Start a new top-level evaluation: fresh guards and a fresh step budget."""
        self._depth = 0
        self._calls = 0
        self._steps = 0
        self._active: set[tuple[object, ...]] = set()
        # A bound on work cut this evaluation short: its result may differ from that of the
        # same expression evaluated later (with more memoized), so it is not reused.
        self.cut = False

    def _cycle(self, key: tuple[object, ...]) -> bool:
        """Whether ``key`` is being evaluated further up: the caller gives up on it. A memo
        that saw no cycle and no cut holds what a fresh evaluation gives wherever it is
        asked for."""
        if key in self._active:
            self.guards += 1
            return True
        return False

    def _guarded(self, key: tuple[object, ...]) -> bool:
        """A cycle, or an evaluation too deep to go on."""
        if self._cycle(key):
            return True
        if self._depth > MAX_DEPTH:
            self.cut = True
            return True
        return False

    def _typed(self, path: str) -> bool:
        ti = self.index.index(path)
        return ti is not None and ti.table.language in self.profile.member_values

    def _shares_scope(self, path: str, other: str) -> bool:
        if self.profile.global_scope:
            return True
        return self.index.tables[path].module == self.index.tables[other].module
