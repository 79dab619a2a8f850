"""Evaluation of reference expressions over symbol tables: lexical lookup with flow, members
through classes (and their bases), modules and imports, calls through return values.

Language rules that differ live in :class:`Profile`; the rest only assumes what a
``SymbolTable`` says. Work is bounded: a depth limit, cycle guards and capped result sets, so a
pathological file costs a bounded amount of time and never overflows the stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from extractors.base import Definition
from extractors.code.expr import RECEIVER, Attr, Call, Expr, Index, parse
from extractors.code.lang_spec import ALL_ARGUMENTS, WITH_OBJECT
from extractors.code.nodes import (
    STABLE,
    ArgNode,
    BindNode,
    Ctx,
    DefNode,
    InstNode,
    ModNode,
    Node,
    PathNode,
    SuperNode,
    TupleNode,
    uniq,
)
from extractors.code.projects import Projects
from extractors.code.scope_index import Candidate, RepoIndex, TableIndex, def_name, def_scope
from extractors.code.scope_index import parent_scope as parent

_MAX_DEPTH = 40
_MAX_STEPS = 3000  # evaluations per top-level expression: a bound on pathological code
_MAX_CALLS = 6  # nested calls followed through return values
_END = 1 << 30
_TERMINAL = frozenset({"class", "function", "module", "lambda"})
_HOISTED = frozenset({"class", "function"})
_ALIASES = frozenset({"variable", "local", "attribute", "export"})
_NEW = Call((), ())


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


class Evaluator:
    def __init__(self, index: RepoIndex, profile: Profile) -> None:
        self.index, self.profile = index, profile
        self.reset()
        self._eval_memo: dict[tuple[str, str, int, int], tuple[Expr, list[Node]]] = {}
        self._deref_memo: dict[tuple[object, ...], list[Node]] = {}
        self._member_memo: dict[tuple[tuple[object, ...], str], list[Node]] = {}
        self._targets_memo: dict[tuple[object, ...], list[Node]] = {}
        self._bases_memo: dict[tuple[object, ...], list[DefNode]] = {}
        self._module_memo: dict[tuple[str, int, str], str | None] = {}
        self.dependency_memo: dict[str, list[tuple[str, bool]]] = {}
        self._star_memo: dict[str, frozenset[str]] = {}
        self._scope_memo: dict[tuple[str, str, str], list[Node]] = {}
        self._lookup_memo: dict[tuple[str, str, str], list[Node]] = {}
        self._projects: Projects | None = None
        self._global_files: frozenset[str] | None = None
        self._projected_memo: dict[tuple[str, int, tuple[str, ...]], list[Node] | None] = {}
        self._constructors: dict[str, frozenset[str]] = {}
        self._typeparams: dict[str, dict[str, list[Definition]]] = {}
        self.version = index.version

    def reset(self) -> None:
        """Start a new top-level evaluation: fresh guards and a fresh step budget."""
        self._depth = 0
        self._calls = 0
        self._steps = 0
        self._active: set[tuple[object, ...]] = set()

    # -- expressions -------------------------------------------------------------------------
    def eval(self, expr: Expr, ctx: Ctx) -> list[Node]:
        memo = not ctx.env
        # Keyed by identity (parse() returns shared objects; the memo keeps them alive):
        # hashing nested frozen dataclasses on every call costs more than evaluating.
        key = (ctx.path, ctx.scope, ctx.line, id(expr))
        if memo and key in self._eval_memo:
            kept, found = self._eval_memo[key]
            if kept is expr:
                return found
        self._steps += 1
        if self._depth > _MAX_DEPTH or self._steps > _MAX_STEPS:
            return []
        self._depth += 1
        try:
            nodes = self._head(expr, ctx)
            for op in expr.ops:
                if not nodes:
                    break
                nodes = uniq([r for n in nodes for r in self._op(n, op, ctx)])
        finally:
            self._depth -= 1
        if memo:
            self._eval_memo[key] = (expr, nodes)
        return nodes

    def apply(self, nodes: list[Node], op: Attr | Call | Index, ctx: Ctx) -> list[Node]:
        """The last operation of an expression applied to what its prefix evaluated to: the
        same as ``eval`` of the whole, for a caller that needs the prefix's nodes too."""
        if not nodes:
            return nodes
        self._depth += 1
        try:
            return uniq([r for n in nodes for r in self._op(n, op, ctx)])
        finally:
            self._depth -= 1

    def _op(self, node: Node, op: Attr | Call | Index, ctx: Ctx) -> list[Node]:
        if isinstance(op, Attr):
            return self.member(node, op.name)
        if isinstance(op, Call):
            return self.call(node, op, ctx)
        out: list[Node] = []
        for obj in self.objects(node):
            if isinstance(obj, InstNode) and self._typed(ctx.path):
                out.append(obj)  # ``xs[i]`` of a ``V[]``: a container is written as its element
                continue
            if not isinstance(obj, TupleNode):
                continue
            # A typed language's array literal is an array of any of its elements' types.
            precise = not self._typed(obj.ctx.path)
            if precise and 0 <= op.index < len(obj.items):
                out += self.eval(obj.items[op.index], obj.ctx)
            elif op.index == -1 or not precise:  # ``xs[i]``: any element
                out += [r for item in obj.items for r in self.eval(item, obj.ctx)]
        return out

    def _head(self, expr: Expr, ctx: Ctx) -> list[Node]:
        if expr.head == "name":
            return self.lookup(ctx, expr.name)
        if expr.head == "import":
            parts = expr.name.split(".") if expr.name else []
            return self.resolve_path(ctx.path, expr.level, parts)
        if expr.head == "tuple":
            return [TupleNode(expr.items, ctx)]
        if expr.head in ("receiver", "super"):
            cls = self._enclosing_class(ctx, method_scope=expr.head == "super")
            if cls is None:
                return []
            return [InstNode(cls) if expr.head == "receiver" else SuperNode(cls)]
        return []

    def _enclosing_class(self, ctx: Ctx, method_scope: bool) -> DefNode | None:
        ti = self.index.index(ctx.path)
        scope = ctx.scope
        while _is_block(scope) or (self.profile.lambda_receiver and _is_lambda(scope)):
            scope = parent(scope)  # ``this`` in a braces block is its function's
        while ti is not None and scope:
            owner = parent(scope)
            d = ti.by_qualname.get(owner)
            if d is not None and d.kind == "class":
                return DefNode(ctx.path, d)
            if d is None and owner and self.profile.class_scope_encloses:
                found = self.class_named(ctx.path, owner)
                if found is not None:
                    return found
            if not method_scope:
                return None
            scope = owner
        return None

    # -- lexical lookup ----------------------------------------------------------------------
    def lookup(self, ctx: Ctx, name: str) -> list[Node]:
        ti = self.index.index(ctx.path)
        if ti is None:
            return []
        ordered = self.profile.flow_sensitive or ti.table.language in self.profile.flow_languages
        if ordered or ctx.env:
            return self._lookup(ti, ctx, name, ordered)
        # Without flow order or bound arguments a name means the same anywhere in its scope:
        # a function's every use of a name walks the scopes once.
        key = (ctx.path, ctx.scope, name)
        found = self._lookup_memo.get(key)
        if found is None:
            found = self._lookup_memo[key] = self._lookup(ti, ctx, name, ordered)
        return found

    def _lookup(self, ti: TableIndex, ctx: Ctx, name: str, ordered: bool) -> list[Node]:
        scope, first = ctx.scope, True
        encloses = self.profile.class_scope_encloses
        seen: list[Node] = []  # assignments to a name declared further out (``rebinds``)
        while True:
            kind = ti.scope_kind(scope)
            if (scope, WITH_OBJECT) in ti.names:  # only ``with`` blocks bind it
                within = self._with_member(ti, ctx, scope, name)
                if within:
                    return uniq(seen + within) if seen else within
            if first or kind != "class" or encloses:
                found = self._in_scope(ti, ctx, scope, name, ordered)
                if not found and encloses and scope:
                    found = self._inherited(ctx, ti, scope, name)
                if found and not all(_rebinds(n) for n in found):
                    if self.profile.headers and (not scope or kind == "class"):
                        found = self._declared_apart(ctx.path, scope, name, found)
                    return uniq(seen + found) if seen else found
                seen += found
            else:  # a class body's names are members, but its type parameters are in scope
                found = [
                    DefNode(ctx.path, c.definition)
                    for c in ti.names.get((scope, name), ())
                    if c.definition is not None and c.definition.kind == "type_parameter"
                ]
                if found:
                    return uniq(seen + found) if seen else found
            if not scope:
                outside = self._outside(ctx, ti, name)
                return uniq(seen + outside) if seen else outside
            if kind != "class" and not _is_block(scope):
                ordered = False  # a function body runs later: it sees the whole outer scope
            scope, first = parent(scope), False

    def _with_member(self, ti: TableIndex, ctx: Ctx, scope: str, name: str) -> list[Node]:
        """``name`` read in a ``with (o)`` block: ``o``'s member of that name, if it has one."""
        objects = [
            DefNode(ctx.path, c.definition)
            for c in ti.names.get((scope, WITH_OBJECT), ())
            if c.definition is not None
        ]
        return uniq([r for o in objects for r in self.member(o, name)])

    def by_use(self, nodes: list[Node], call: bool) -> list[Node]:
        """``nodes`` a use can mean where methods and fields are apart (else all of them)."""
        if not self.profile.methods_apart or len(nodes) < 2:
            return nodes
        kept = [n for n in nodes if (isinstance(n, DefNode) and n.d.kind == "function") == call]
        return kept or nodes

    def _declared_apart(self, path: str, scope: str, name: str, found: list[Node]) -> list[Node]:
        """``found`` plus the other files' functions and variables of the same qualified name
        where one side is a header's declaration (a source file's own ``static`` helpers stay
        apart from another's)."""
        headers = self.profile.headers
        in_header = any(isinstance(n, DefNode) and n.path.endswith(tuple(headers)) for n in found)
        more: list[Node] = [
            DefNode(other, d)
            for other, d in self.index.scoped(scope, name)
            if other != path
            and d.kind in ("function", "variable")
            and (in_header or other.endswith(tuple(headers)))
        ]
        return uniq(found + more) if more else found

    def _inherited(self, ctx: Ctx, ti: TableIndex, scope: str, name: str) -> list[Node]:
        """Members of the class ``scope`` names (its bases' too) seen unqualified inside it."""
        cls = self.class_named(ctx.path, scope)
        found = self.class_members(cls, name) if cls is not None else []
        hidden = self.profile.hidden_kinds
        return [n for n in found if not (isinstance(n, DefNode) and n.d.kind in hidden)]

    def class_named(self, path: str, qualname: str) -> DefNode | None:
        """The class ``qualname`` of ``path``'s file, else of its package (open classes)."""
        ti = self.index.index(path)
        d = ti.by_qualname.get(qualname) if ti is not None else None
        if d is not None:
            return DefNode(path, d) if d.kind == "class" else None
        if not (self.profile.open_classes or self.profile.global_scope):
            return None
        for other, found in self.index.scoped(
            qualname.rpartition(".")[0], qualname.rpartition(".")[2]
        ):
            if found.kind == "class" and self._shares_scope(path, other):
                return DefNode(other, found)
        return None

    def _shares_scope(self, path: str, other: str) -> bool:
        if self.profile.global_scope:
            return True
        return self.index.tables[path].module == self.index.tables[other].module

    def _outside(self, ctx: Ctx, ti: TableIndex, name: str) -> list[Node]:
        """Names no scope of the file binds: the package's other files, then global names."""
        out: list[Node] = []
        if self.profile.package_scope or self.profile.global_scope:
            for other, d in self.index.scoped("", name):
                if (
                    other != ctx.path
                    and d.kind not in self.profile.hidden_kinds
                    and (self._shares_scope(ctx.path, other))
                ):
                    out.append(DefNode(other, d))
        if not out and self.profile.package_scope and self.index.exists(name):
            out.append(ModNode(name))  # a qualified name's package: ``com.acme.Circle``
        if self.profile.global_kinds:
            kinds = self.profile.global_kinds
            out += [DefNode(o, d) for o, d in self.index.scoped("", name) if d.kind in kinds]
        return uniq(out)

    def _in_scope(
        self, ti: TableIndex, ctx: Ctx, scope: str, name: str, ordered: bool
    ) -> list[Node]:
        cands = ti.names.get((scope, name), ())
        if not cands and scope not in ti.wildcards:
            return []  # most lookups: a scope on the way out that does not bind the name
        # Unordered lookups without bound arguments or wildcards (a function body reading an
        # outer scope: most of them) depend on the file, scope and name alone.
        memo_key = None
        if not ordered and not ctx.env and scope not in ti.wildcards:
            memo_key = (ctx.path, scope, name)
            known = self._scope_memo.get(memo_key)
            if known is not None:
                return known
        items: list[tuple[Candidate, list[Node]]] = []
        for c in cands:
            if c.definition is not None and c.definition.kind not in self.profile.hidden_kinds:
                items.append((c, [self._def_node(ctx, c.definition)]))
            elif c.binding is not None:
                items.append((c, [BindNode(ctx.path, c.binding, c.prefix)]))
        for b in ti.wildcards.get(scope, ()):
            nodes = self._wildcard(ctx.path, b.level, b.target, name)
            if nodes:
                items.append((Candidate(b.line, None, None, binding=b), nodes))
        if ordered:
            items = _visible(items, ctx.line, self.profile.rebinding_kills)
        found = uniq([n for _, nodes in items for n in nodes])
        if memo_key is not None:
            self._scope_memo[memo_key] = found
        return found

    def _def_node(self, ctx: Ctx, d: Definition) -> Node:
        node = DefNode(ctx.path, d)
        if d.kind in ("parameter", "type_parameter") and ctx.env:
            for qualname, bound in ctx.env:
                if qualname == d.qualname:
                    return ArgNode(node, bound)
        return node

    def _wildcard(self, path: str, level: int, target: str, name: str) -> list[Node]:
        module = self.module_name(path, level, target)
        if module is None and self.profile.global_scope and not level:
            # A namespace made visible (C++ ``using namespace geo``): its names in any file.
            return [DefNode(p, d) for p, d in self.index.scoped(target, name)]
        if module is None and self.profile.package_scope and not level:
            # A class made visible (C# ``using static A.Util``, Java ``import static a.B.*``):
            # its members.
            owners = self._static_owners(path, target)
            return uniq([r for cls in owners for r in self.class_members(cls, name)])
        if module is None or ("*", module, name) in self._active:
            return []
        if name not in self._star_names(module):  # most lookups miss most starred modules
            return []
        for mod_path in self.index.by_module.get(module, ()):
            table = self.index.tables[mod_path]
            # Python's ``__all__`` lists every name; an ECMAScript module's exports add those
            # of the modules it re-exports (``module_member`` tells them apart).
            names = table.all_names
            if names is not None and name not in names and not self.profile.exported_only:
                return []
        if name.startswith("_"):
            return []
        self._active.add(("*", module, name))
        try:
            return self.module_member(module, name, submodules=False)
        finally:
            self._active.discard(("*", module, name))

    def _static_owners(self, path: str, target: str) -> list[DefNode]:
        key = ("static", path, target)
        found = self._bases_memo.get(key)
        if found is None:
            nodes = self.resolve_path(path, 0, target.split("."))
            found = [n for n in nodes if isinstance(n, DefNode) and n.d.kind == "class"]
            self._bases_memo[key] = found
        return found

    def _star_names(self, module: str) -> frozenset[str]:
        """Every module-level name of ``module`` and of the modules it star-imports, however
        deep: a superset of what a wildcard import of it can bind."""
        found = self._star_memo.get(module)
        if found is not None:
            return found
        names: set[str] = set()
        todo, seen = [module], {module}
        while todo:
            for path in self.index.by_module.get(todo.pop(), ()):
                ti = self.index.index(path)
                if ti is None:
                    continue
                names |= ti.top_names
                for b in ti.wildcards.get("", ()):
                    inner = self.module_name(path, b.level, b.target)
                    if inner is not None and inner not in seen:
                        seen.add(inner)
                        todo.append(inner)
        found = self._star_memo[module] = frozenset(names)
        return found

    # -- modules -----------------------------------------------------------------------------
    def module_name(self, path: str, level: int, dotted: str) -> str | None:
        # Project files (tsconfig ``paths``) make a bare path's module depend on the file.
        key = (path if level or self.projects else "", level, dotted)
        if key in self._module_memo:
            return self._module_memo[key]
        found = self._module_memo[key] = self._module_name(path, level, dotted)
        return found

    def _module_name(self, path: str, level: int, dotted: str) -> str | None:
        mapped = self._projected(path, level, dotted.split(".")) if dotted else None
        if mapped and isinstance(mapped[0], ModNode):
            return mapped[0].name
        if level == 0:
            return (
                self.index.canonical(dotted)
                if dotted.count(".")
                else (dotted if self.index.exists(dotted) else None)
            )
        base = self.index.relative_base(path, level)
        if base is None:
            return None
        full = f"{base}.{dotted}" if base and dotted else base or dotted
        return full if self.index.exists(full) else None

    def resolve_path(self, path: str, level: int, parts: list[str]) -> list[Node]:
        """An import path: the longest prefix that is a module of the project, then members;
        an absolute path the project lacks is an external module."""
        projected = self._projected(path, level, parts) if parts else None
        if projected is not None:
            return projected
        base: list[str] = []
        if level:
            rel = self.index.relative_base(path, level)
            if rel is None:
                return []
            base = rel.split(".") if rel else []
        full = base + parts
        # A relative path may name the root package itself (``./index.js`` beside it).
        for k in range(len(full), -1 if level else 0, -1):
            name = ".".join(full[:k])
            canon = name if self.index.exists(name) else None
            if canon is None and not level and k == len(full) and k > 1:
                canon = self.index.canonical(name)
            if canon is not None:
                nodes: list[Node] = [ModNode(canon)]
                for attr in full[k:]:
                    nodes = uniq([r for n in nodes for r in self.member(n, attr)])
                return nodes
        if level or not full:
            return []
        if self.profile.suffix_imports:
            for k in range(1, len(full)):
                canon = self.index.canonical(".".join(full[k:]))
                if canon is not None:
                    return [ModNode(canon)]
        return [ModNode(".".join(full), external=True)]

    @property
    def global_files(self) -> frozenset[str]:
        """Files declaring a name every file sees (``global_kinds``): all files read them."""
        if self._global_files is None:
            kinds = self.profile.global_kinds
            self._global_files = frozenset(
                path
                for path, t in self.index.tables.items()
                if kinds and any(d.kind in kinds for d in t.definitions)
            )
        return self._global_files

    @property
    def projects(self) -> Projects:
        """The project files (``package.json``, ``tsconfig.json``) among the tables."""
        if self._projects is None:
            self._projects = Projects(self.index.tables.values())
        return self._projects

    def _projected(self, path: str, level: int, parts: list[str]) -> list[Node] | None:
        """An import path as the project files governing ``path`` map it (the longest
        prefix they map to a module of the project, then members), else None."""
        projects = self.projects
        if not projects:
            return None
        key = (path, level, tuple(parts))
        if key in self._projected_memo:
            return self._projected_memo[key]
        found = self._projected_memo[key] = self._project_path(projects, path, level, parts)
        return found

    def _project_path(
        self, projects: Projects, path: str, level: int, parts: list[str]
    ) -> list[Node] | None:
        base = self.index.relative_base(path, level) if level else ""
        for k in range(len(parts), 0, -1):
            rest = "/".join(parts[:k])
            if level:
                if base is None or self.index.exists(".".join(p for p in (base, *parts[:k]) if p)):
                    return None  # the plain relative path is there
                found = projects.relative(path, ("../" * (level - 1) or "./") + rest)
            else:
                found = projects.bare(path, rest)
            for name in found:
                if self.index.exists(name):
                    nodes: list[Node] = [ModNode(name)]
                    for attr in parts[k:]:
                        nodes = uniq([r for n in nodes for r in self.member(n, attr)])
                    return nodes
        return None

    def module_member(self, module: str, attr: str, submodules: bool = True) -> list[Node]:
        key = ("mm", module, attr, submodules)
        found = self._member_memo.get((key, attr))
        if found is None:
            found = self._member_memo[(key, attr)] = self._module_member(module, attr, submodules)
        return found

    def _module_member(self, module: str, attr: str, submodules: bool) -> list[Node]:
        out: list[Node] = []
        for path in self.index.by_module.get(module, ()):
            ti = self.index.index(path)
            assert ti is not None
            ctx = Ctx(path, "", _END)
            found = self._in_scope(ti, ctx, "", attr, ordered=False)
            found += [  # ``export { a as b }``: seen from importers only
                DefNode(path, c.definition)
                for c in ti.names.get(("", attr), ())
                if c.definition is not None and c.definition.kind == "export"
            ]
            names = ti.table.all_names
            if self.profile.exported_only and names is not None and attr not in names:
                # A name the module keeps to itself; one of a module it re-exports still counts.
                found = [
                    n for n in found if not (isinstance(n, DefNode | BindNode) and n.path == path)
                ]
            out += found
        sub = f"{module}.{attr}"
        if submodules and self.index.exists(sub):
            out.append(ModNode(sub))
        if not out and attr == "default" and self.profile.exported_only and self._commonjs(module):
            out.append(ModNode(module))  # a CommonJS module's default import is its exports
        return uniq(out)

    def _commonjs(self, module: str) -> bool:
        """A module of the project that says nothing of ECMAScript exports (``exports.x``)."""
        paths = self.index.by_module.get(module, ())
        return bool(paths) and all(self.index.tables[p].all_names is None for p in paths)

    def targets(self, node: BindNode) -> list[Node]:
        """What an import binding (seen through a prefix of its name) refers to."""
        memo = self._targets_memo.get(node.key)
        if memo is not None:
            return memo
        if node.key in self._active or self._depth > _MAX_DEPTH:
            return []
        self._active.add(node.key)
        self._depth += 1
        try:
            out = self._targets(node)
        finally:
            self._active.discard(node.key)
            self._depth -= 1
        self._targets_memo[node.key] = out
        return out

    def _targets(self, node: BindNode) -> list[Node]:
        b = node.b
        local = b.local.split(".")
        target = b.target.split(".") if b.target else []
        drop = len(local) - (node.prefix.count(".") + 1)
        parts = target[: len(target) - drop] if drop else target
        if b.symbol and drop == 0 and parts:
            owners = (
                self.resolve_path(node.path, b.level, parts[:-1]) if (parts[:-1] or b.level) else []
            )
            found = uniq([r for o in owners for r in self.member(o, parts[-1])])
            return found or self.resolve_path(node.path, b.level, parts)
        return self.resolve_path(node.path, b.level, parts)

    # -- members, values, calls --------------------------------------------------------------
    def member(self, node: Node, attr: str) -> list[Node]:
        stable = isinstance(node, STABLE) and not (isinstance(node, InstNode) and node.env)
        key = (node.key, attr)
        if stable and key in self._member_memo:
            return self._member_memo[key]
        if key in self._active or self._depth > _MAX_DEPTH:
            return []
        self._active.add(key)
        self._depth += 1
        try:
            out = self._dotted(node, attr)
            for value in self.deref(node):
                if value is node or not isinstance(value, BindNode | DefNode):
                    out += self._member_of(value, attr)
                else:  # another binding: its dotted names count too
                    out += self.member(value, attr)
            out = uniq(out)
        finally:
            self._active.discard(key)
            self._depth -= 1
        if stable:
            self._member_memo[key] = out
        return out

    def _dotted(self, node: Node, attr: str) -> list[Node]:
        """Bindings of a dotted name: ``a.b`` of ``import a.b`` or of ``a.b = 1``."""
        if isinstance(node, PathNode):
            ti, scope, name = self.index.index(node.path), node.scope, node.name
        elif isinstance(node, BindNode):
            ti, scope, name = self.index.index(node.path), node.b.scope, node.prefix
        elif isinstance(node, DefNode) and node.d.kind not in _TERMINAL:
            ti, scope, name = self.index.index(node.path), def_scope(node.d), def_name(node.d)
        else:
            return []
        if ti is None:
            return []
        out: list[Node] = []
        path = node.path
        for c in ti.names.get((scope, f"{name}.{attr}"), ()):
            if c.binding is not None:
                out.append(BindNode(path, c.binding, c.prefix))
            elif c.definition is not None:
                out.append(DefNode(path, c.definition))
        if not out and (scope, f"{name}.{attr}") in ti.dotted_prefixes:
            out.append(PathNode(path, scope, f"{name}.{attr}"))
        return out

    def _member_of(self, value: Node, attr: str) -> list[Node]:
        if isinstance(value, BindNode):
            return [r for t in self.targets(value) for r in self.member(t, attr)]
        if isinstance(value, DefNode) and value.d.kind == "class":
            # The class object has its static members, not its instances' (``C.m``).
            found = self.class_members(value, attr)
            return [n for n in found if not (isinstance(n, DefNode) and n.d.instance)]
        if isinstance(value, InstNode):
            found = self.class_members(value.cls, attr)
            if value.cls.d.kind != "class":  # a constructor function's: what it set on this
                found = [n for n in found if isinstance(n, DefNode) and n.d.kind == "attribute"]
            return self._bound_members(found, value.env) if value.env else found
        if isinstance(value, SuperNode):
            return [r for base in self.bases(value.cls) for r in self.class_members(base, attr)]
        if isinstance(value, ModNode):
            if value.external:
                return [ModNode(f"{value.name}.{attr}", external=True)]
            return self.module_member(value.name, attr)
        return []

    def class_members(self, cls: DefNode, attr: str) -> list[Node]:
        """Members named ``attr`` of a class and of all its bases (every candidate: a method
        overridden in a subclass may run either body)."""
        out: list[Node] = []
        seen: set[tuple[object, ...]] = set()
        todo = [cls]
        while todo and len(seen) < 64:
            c = todo.pop(0)
            if c.key in seen:
                continue
            seen.add(c.key)
            ti = self.index.index(c.path)
            if ti is None:
                continue
            for cand in ti.names.get((c.d.qualname, attr), ()):
                if cand.definition is not None:
                    out.append(DefNode(c.path, cand.definition))
                elif cand.binding is not None:
                    out.append(BindNode(c.path, cand.binding, cand.prefix))
            if self.profile.open_classes or self.profile.global_scope:
                out += [
                    DefNode(p, d)
                    for p, d in self.index.scoped(c.d.qualname, attr)
                    if p != c.path and self._shares_scope(c.path, p)
                ]
            if out and self._typed(cls.path):
                break  # a typed member access means the nearest declaration (an override)
            todo += self.bases(c)
        if not out and self.profile.extensions:
            out = self._extensions(seen, attr)
        return uniq(out)

    def _extensions(self, classes: set[tuple[object, ...]], attr: str) -> list[Node]:
        """Extension functions named ``attr`` whose receiver type is one of ``classes``."""
        out: list[Node] = []
        for path, d in self.index.by_name(attr):
            if d.kind != "function" or not d.bases:
                continue
            ctx = Ctx(path, def_scope(d), d.line)
            owners = [o for b in d.bases for n in self.eval(parse(b), ctx) for o in self.objects(n)]
            if any(isinstance(o, DefNode) and o.key in classes for o in owners):
                out.append(DefNode(path, d))
        return out

    def bases(self, cls: DefNode) -> list[DefNode]:
        if not cls.d.bases:
            return []
        key = ("bases", *cls.key)
        memo = self._bases_memo.get(key)
        if memo is not None:
            return memo
        if key in self._active:
            return []
        self._active.add(key)
        try:
            ctx = Ctx(cls.path, def_scope(cls.d), cls.d.line)
            out: list[DefNode] = []
            for text in cls.d.bases:
                for n in self.eval(parse(text), ctx):
                    out += [
                        o for o in self.objects(n) if isinstance(o, DefNode) and o.d.kind == "class"
                    ]
        finally:
            self._active.discard(key)
        self._bases_memo[key] = out
        return out

    def deref(self, node: Node) -> list[Node]:
        """What a binding holds, stopping at classes, functions, modules and import bindings."""
        if isinstance(node, ArgNode):
            found = [r for b in node.bound for r in self.deref(b)]
            # An argument we cannot follow (a literal, ``null``): the parameter's own type;
            # where a parameter's value is its default, the call may pass nothing.
            if found and self._typed(node.param.path):
                return found
            return uniq(found + self.deref(node.param))
        if not isinstance(node, DefNode) or node.d.kind in _TERMINAL:
            return [node]
        if not node.d.values:
            if node.d.kind in self.profile.global_kinds:  # ``export as namespace A``
                table = self.index.tables.get(node.path)
                return [ModNode(table.module)] if table is not None else []
            return []
        memo = self._deref_memo.get(node.key)
        if memo is not None:
            return memo
        if node.key in self._active or self._depth > _MAX_DEPTH:
            return []
        self._active.add(node.key)
        self._depth += 1
        try:
            ctx = self.def_ctx(node)
            out = uniq(
                [r for v in node.d.values for n in self.eval(parse(v), ctx) for r in self.deref(n)]
            )
        finally:
            self._active.discard(node.key)
            self._depth -= 1
        self._deref_memo[node.key] = out
        return out

    def objects(self, node: Node) -> list[Node]:
        """Like ``deref`` but through import bindings too."""
        out: list[Node] = []
        todo: list[Node] = [node]
        seen: set[tuple[object, ...]] = set()
        while todo and len(seen) < 64:
            n = todo.pop()
            if n.key in seen:
                continue
            seen.add(n.key)
            for v in self.deref(n):
                if not isinstance(v, BindNode):
                    out.append(v)
                elif v is n:
                    todo += self.targets(v)
                else:
                    todo.append(v)
        return uniq(out)

    def def_ctx(self, node: DefNode) -> Ctx:
        d = node.d
        return Ctx(node.path, d.value_scope if d.value_scope is not None else def_scope(d), d.line)

    def call(self, node: Node, op: Call, ctx: Ctx) -> list[Node]:
        out: list[Node] = []
        for obj in self.objects(node):
            if isinstance(obj, DefNode) and obj.d.kind == "class":
                out.append(self._instance(obj, op, ctx))
            elif isinstance(obj, InstNode):  # Ruby ``new(x)`` in a class method, Kotlin ``this()``
                out.append(obj)
            elif isinstance(obj, DefNode) and obj.d.kind == "function":
                out += self._returns(obj, op, ctx)
                if self.profile.function_classes and self._constructs(obj):
                    out.append(self._instance(obj, op, ctx))
            elif isinstance(obj, TupleNode):  # a tuple type's instance: its items' instances
                items = tuple(replace(e, ops=(*e.ops, _NEW)) for e in obj.items)
                out.append(TupleNode(items, obj.ctx))
        return uniq(out)

    def _constructs(self, fn: DefNode) -> bool:
        """Whether a function assigns members to ``this`` (so ``new`` of it makes them)."""
        found = self._constructors.get(fn.path)
        if found is None:
            ti = self.index.index(fn.path)
            defs = ti.table.definitions if ti is not None else []
            found = self._constructors[fn.path] = frozenset(
                def_scope(d) for d in defs if d.kind == "attribute"
            )
        return fn.d.qualname in found

    def _instance(self, cls: DefNode, op: Call, ctx: Ctx) -> InstNode:
        """``new C(args)``: JavaScript binds the constructor's parameters (a function's own, a
        class's ``constructor``'s), so members assigned from them hold the arguments."""
        env: list[tuple[str, tuple[Node, ...]]] = []
        if op.args and self.profile.function_classes:
            ti = self.index.index(cls.path)
            ctor = cls.d.qualname + (".constructor" if cls.d.kind == "class" else "")
            params = sorted(ti.params.get(ctor, []) if ti else [], key=lambda p: p.index)
            positional = [p for p in params if p.index >= 0]
            env += [
                (p.qualname, tuple(self.eval(arg, ctx)))
                for p, arg in zip(positional, op.args, strict=False)
            ]
        if op.kwargs and cls.d.kind == "class":
            env += self._type_env(cls, op, ctx)
        return InstNode(cls, tuple(env)) if env else InstNode(cls)

    def _type_env(self, cls: DefNode, op: Call, ctx: Ctx) -> list[tuple[str, tuple[Node, ...]]]:
        """``Box(<0>=Item)``, a ``Box<Item>``: the generic's type parameters bound by position
        to the types given, the rest to their defaults (which may name earlier ones)."""
        given = {k: arg for k, arg in op.kwargs if k.startswith("<")}
        by_scope = self._typeparams.get(cls.path)
        if by_scope is None:
            ti = self.index.index(cls.path)
            by_scope = self._typeparams[cls.path] = {}
            for d in ti.table.definitions if ti is not None else []:
                if d.kind == "type_parameter":
                    by_scope.setdefault(def_scope(d), []).append(d)
        env: list[tuple[str, tuple[Node, ...]]] = []
        for p in sorted(by_scope.get(cls.d.qualname, []), key=lambda p: p.index):
            arg = given.get(f"<{p.index}>")
            if arg is not None:
                env.append((p.qualname, tuple(self.eval(arg, ctx))))
            elif p.values:
                inner = Ctx(cls.path, cls.d.qualname, p.line, tuple(env))
                env.append(
                    (p.qualname, tuple(r for v in p.values for r in self.eval(parse(v), inner)))
                )
        return env

    def _bound_members(
        self, found: list[Node], env: tuple[tuple[str, tuple[Node, ...]], ...]
    ) -> list[Node]:
        """Members of an instance whose constructor's arguments are known: an attribute's
        value is read with its parameters bound to them."""
        out: list[Node] = []
        for n in found:
            if isinstance(n, DefNode) and n.d.kind in ("attribute", "variable") and n.d.values:
                c = self.def_ctx(n)
                inner = Ctx(c.path, c.scope, c.line, env)
                bound = tuple(r for v in n.d.values for r in self.eval(parse(v), inner))
                out.append(ArgNode(n, bound) if bound else n)
            else:
                out.append(n)
        return out

    def _returns(self, fn: DefNode, op: Call, ctx: Ctx) -> list[Node]:
        key = ("call", *fn.key)
        if not fn.d.values or key in self._active or self._calls >= _MAX_CALLS:
            return []
        self._active.add(key)
        self._calls += 1
        try:
            return self._bound_returns(fn, op, ctx)
        finally:
            self._active.discard(key)
            self._calls -= 1

    def _bound_returns(self, fn: DefNode, op: Call, ctx: Ctx) -> list[Node]:
        ti = self.index.index(fn.path)
        params = sorted(ti.params.get(fn.d.qualname, []) if ti else [], key=lambda p: p.index)
        positional = [p for p in params if p.index >= 0]
        if positional and positional[0].values == [RECEIVER]:
            positional = positional[1:]
        env: list[tuple[str, tuple[Node, ...]]] = []
        for p, arg in zip(positional, op.args, strict=False):
            env.append((p.qualname, tuple(self.eval(arg, ctx))))
        every = [p for p in params if p.index == ALL_ARGUMENTS]  # JavaScript ``arguments``
        env += [(p.qualname, (TupleNode(op.args, ctx),)) for p in every]
        by_name = {def_name(p): p for p in params}
        for key, arg in op.kwargs:
            if key in by_name:
                env.append((by_name[key].qualname, tuple(self.eval(arg, ctx))))
        if any(key.startswith("<") for key, _ in op.kwargs):  # ``f<A>(x)``: its type arguments
            env += self._type_env(fn, op, ctx)
        inner = Ctx(fn.path, fn.d.qualname, _END, tuple(env))
        return [r for v in fn.d.values for r in self.eval(parse(v), inner)]

    # -- where a resolution points -----------------------------------------------------------
    def _typed(self, path: str) -> bool:
        ti = self.index.index(path)
        return ti is not None and ti.table.language in self.profile.member_values

    def lines(self, node: Node) -> set[tuple[str, int]]:
        """The definition sites a node stands for, following aliases (``x = y``, imports)."""
        out: set[tuple[str, int]] = set()
        todo: list[Node] = [node]
        seen: set[tuple[object, ...]] = set()
        while todo and len(seen) < 64:
            n = todo.pop()
            if n.key in seen:
                continue
            seen.add(n.key)
            if isinstance(n, ArgNode) and n.param.d.kind == "attribute":
                todo.append(n.param)  # a member bound to a constructor's argument
            elif isinstance(n, ArgNode):
                out.add((n.param.path, n.param.d.line))
            elif isinstance(n, DefNode):
                if not def_name(n.d).startswith("<"):  # an object literal names no site
                    out.add((n.path, n.d.line))
                # A typed language's variable is a site of its own (its value only gives it
                # a type); an export (``export default x``) stands for what it names.
                alias = n.d.kind == "export" or n.d.qualname == "default"
                if n.d.kind in _ALIASES | {"parameter"} and (alias or not self._typed(n.path)):
                    ctx = self.def_ctx(n)
                    paths = [e for e in map(parse, n.d.values) if _reads(e)]
                    todo += [r for e in paths for r in self.eval(e, ctx)]
            elif isinstance(n, BindNode):
                out.add((n.path, n.b.line))
                todo += self.targets(n)
            elif isinstance(n, ModNode) and not n.external:
                for path in self.index.by_module.get(n.name, ()):
                    ti = self.index.index(path)
                    if ti is not None and ti.module_line and self.profile.module_sites:
                        out.add((path, ti.module_line))
        return out


def _reads(e: Expr) -> bool:
    """A value that only reads names, members and elements (an alias of what it reads)."""
    return e.head == "name" and all(isinstance(op, Attr | Index) for op in e.ops)


def _rebinds(n: Node) -> bool:
    return isinstance(n, DefNode) and n.d.rebinds


def _is_block(scope: str) -> bool:
    """A braces block (``<block#2>``): it runs in line with its function, unlike a nested
    function body."""
    return scope.rpartition(".")[2].startswith("<block")


def _is_lambda(scope: str) -> bool:
    return scope.rpartition(".")[2].startswith("<lambda")


def _hoisted(c: Candidate) -> bool:
    d = c.definition  # declarations and imports are bound before the code runs
    return (d is not None and d.kind in _HOISTED) or c.binding is not None


def _visible(
    items: list[tuple[Candidate, list[Node]]], line: int, kills: bool = True
) -> list[tuple[Candidate, list[Node]]]:
    """Bindings a use on ``line`` sees: the latest before it (and earlier ones while the later
    sit in blocks that may not run), plus bindings later in a loop around the use. Without
    ``kills``: every binding before it, and hoisted declarations wherever they are."""
    if len(items) == 1 and items[0][0].line < line and items[0][0].loop is None:
        return items
    if not kills:
        # Back from the use: assignments add to what it may see, a declaration ends it.
        seen: list[tuple[Candidate, list[Node]]] = []
        last = -1  # the line of the declaration that ends the walk (its line's others count)
        for it in sorted((it for it in items if it[0].line < line), key=lambda it: -it[0].line):
            c = it[0]
            if c.line < last:
                break
            seen.append(it)
            rebinds = c.definition is not None and c.definition.rebinds
            if not rebinds and (c.block is None or c.block[0] <= line <= c.block[1]):
                last = c.line
        return seen + [
            it
            for it in items
            if it[0].line >= line
            and (
                _hoisted(it[0])
                or (it[0].loop is not None and it[0].loop[0] <= line <= it[0].loop[1])
            )
        ]
    before = sorted((it for it in items if it[0].line < line), key=lambda it: -it[0].line)
    out: list[tuple[Candidate, list[Node]]] = []
    for it in before:
        out.append(it)
        block = it[0].block
        if block is None or block[0] <= line <= block[1]:
            break
    for it in items:
        loop = it[0].loop
        if it[0].line >= line and loop is not None and loop[0] <= line <= loop[1]:
            out.append(it)
    return out
