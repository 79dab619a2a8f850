"""Operation guard: auth and a complexity limit, checked before anything executes.

Cost model (``operation_cost``): every field costs 1; a field with a ``depth`` argument costs
``depth`` (each hop is a store round); the selections under a field with a ``first`` argument
count ``first`` times when the operation gives ``first`` (``min(default, LIST_GUESS)`` times when
it relies on the default: most lists are shorter than their page size), under ``nodes(ids:)``
``len(ids)`` times, and under any other list field ``LIST_GUESS`` times. Introspection
(``__schema``, ``__type``, ``__typename``) is free, so GraphiQL's schema fetch is never refused.
Fragments and inline fragments count in full (an over-estimate for abstract types, never an
under-estimate). An operation above ``settings.max_complexity`` is rejected with the computed cost.

Validation runs first (here, with the rules the depth and alias limiters added), so the cost is
only computed on valid documents.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    validate,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from kg.settings import Settings

LIST_GUESS = 10
VALID_CACHE = 1024  # document texts known to validate, per schema
Composite = GraphQLObjectType | GraphQLInterfaceType


def _is_list(t: GraphQLOutputType) -> bool:
    inner = t.of_type if isinstance(t, GraphQLNonNull) else t
    return isinstance(inner, GraphQLList)


class _Coster:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def arg(self, node: FieldNode, field: GraphQLField, name: str) -> tuple[Any, bool]:
        """The argument's value and whether the operation gave it (else the default)."""
        for a in node.arguments or ():
            if a.name.value == name:
                return value_from_ast_untyped(a.value, dict(self.variables)), True
        spec = field.args.get(name)
        return (None if spec is None else spec.default_value), False

    def selections(
        self,
        parent: Composite,
        sel: SelectionSetNode | None,
        seen: frozenset[str],
        page: int | None = None,
    ) -> int:
        if sel is None:
            return 0
        total = 0
        for s in sel.selections:
            if isinstance(s, FieldNode):
                total += self.field(parent, s, seen, page)
            elif isinstance(s, InlineFragmentNode):
                narrowed = self.narrow(parent, s.type_condition)
                total += self.selections(narrowed, s.selection_set, seen, page)
            elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen:
                frag = self.fragments.get(s.name.value)
                if frag is not None:
                    target = self.narrow(parent, frag.type_condition)
                    total += self.selections(
                        target, frag.selection_set, seen | {s.name.value}, page
                    )
        return total

    def narrow(self, parent: Composite, condition: Any) -> Composite:
        if condition is None:
            return parent
        t = self.schema.get_type(condition.name.value)
        return t if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) else parent

    def field(
        self, parent: Composite, node: FieldNode, seen: frozenset[str], page: int | None
    ) -> int:
        """``page`` is the page size of the connection this field belongs to: its list field
        (``edges``) counts that many times, its ``totalCount``/``pageInfo`` once."""
        name = node.name.value
        if name.startswith("__"):
            return 0
        field = parent.fields.get(name)
        if field is None:
            return 1
        own = 1
        depth, _ = self.arg(node, field, "depth")
        if isinstance(depth, int) and depth > 1:
            own = depth
        times, child_page = 1, None
        first, given = self.arg(node, field, "first")
        ids, _ = self.arg(node, field, "ids")
        if isinstance(first, int) and "first" in field.args:
            child_page = max(first, 0) if given else min(first, LIST_GUESS)
        elif isinstance(ids, list):
            times = len(ids)
        elif _is_list(field.type):
            times = LIST_GUESS if page is None else page
        named = get_named_type(field.type)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return own * times
        # unions are not used by this schema; an interface is costed over its own fields
        return own + times * self.selections(named, node.selection_set, seen, child_page)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation ``operation_name`` (or the only one) in ``document``."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    op = next(
        (o for o in ops if o.name and o.name.value == operation_name), ops[0] if ops else None
    )
    if op is None:
        return 0
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[op.operation]
    if root is None:
        return 0
    return _Coster(schema, fragments, variables or {}).selections(
        root, op.selection_set, frozenset()
    )


def build_guard(settings: Settings) -> type[SchemaExtension]:
    """The guard extension class for these settings (it must run after the limiters)."""
    limit = settings.max_complexity
    # Validity depends on the document text alone (the rules are fixed per schema and see no
    # variables), and validating was most of a small query's time: clients send the same few
    # documents over and over, so the texts that validated clean are remembered.
    valid: OrderedDict[str, None] = OrderedDict()

    class OperationGuard(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            ctx = self.execution_context
            errors = _check(ctx, settings, limit, valid)
            if errors is not None:
                ctx.pre_execution_errors = errors
            yield

    return OperationGuard


def _validate(ctx: Any, valid: OrderedDict[str, None]) -> list[GraphQLError]:
    text = ctx.query
    if isinstance(text, str) and text in valid:
        valid.move_to_end(text)
        return []
    errors = list(validate(ctx.schema._schema, ctx.graphql_document, ctx.validation_rules))
    if not errors and isinstance(text, str):
        valid[text] = None
        if len(valid) > VALID_CACHE:
            valid.popitem(last=False)
    return errors


def _check(
    ctx: Any, settings: Settings, limit: int, valid: OrderedDict[str, None]
) -> list[GraphQLError] | None:
    """Errors to stop the operation with; None lets strawberry validate as usual."""
    context = ctx.context
    if settings.api_token and not getattr(context, "authorized", False):
        return [
            GraphQLError(
                "Unauthorized: this server requires `Authorization: Bearer <token>` "
                "(KG_API_TOKEN); over WebSocket put it in the connection_init payload",
                extensions={"code": "UNAUTHENTICATED"},
            )
        ]
    document = ctx.graphql_document
    if document is None:
        return None
    errors = _validate(ctx, valid)
    if errors:
        return errors
    schema = ctx.schema._schema
    cost = operation_cost(schema, document, ctx.operation_name, ctx.variables)
    if cost > limit:
        return [
            GraphQLError(
                f"Query is too complex: cost {cost} exceeds the limit of {limit}; ask for fewer "
                "items (`first`), a smaller `depth`, or split the query",
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": limit},
            )
        ]
    return []
