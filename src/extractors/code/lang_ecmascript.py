"""The ECMAScript family's specs (JavaScript, TypeScript, TSX) and their shared resolver
:class:`Profile`; the extractors are in ``languages.py``.
"""

from __future__ import annotations

from dataclasses import replace

from extractors.code.evaluate import Profile
from extractors.code.lang_spec import LangSpec

_F = frozenset

# -- JavaScript / TypeScript / TSX -----------------------------------------------------------
_JS_MEMBERS = {
    "member_expression": ("object", "property"),
    "nested_identifier": ("object", "property"),
    "nested_type_identifier": ("module", "name"),
}
JAVASCRIPT = LangSpec(
    name="javascript",
    extensions=_F({".js", ".jsx", ".mjs", ".cjs"}),
    module_style="path",
    import_style="js",
    identifiers=_F(
        {
            "identifier",
            "property_identifier",
            "type_identifier",
            "shorthand_property_identifier",
            "private_property_identifier",
            "string_fragment",  # a quoted key: ``{ "r": p }`` binds ``r``
        }
    ),
    members=_JS_MEMBERS,
    calls={"call_expression": ("function", "arguments")},
    news={"new_expression": ("constructor", "arguments")},
    transparent=_F(
        {
            "parenthesized_expression",
            "await_expression",
            "non_null_expression",
            "as_expression",
            "satisfies_expression",
            "type_annotation",
            "generic_type",
            "type_assertion",
        }
    ),
    receiver_types=_F({"this"}),
    super_types=_F({"super"}),
    arguments="arguments",
    function_classes=True,
    class_bodies=_F({"class_body"}),
    wrappers=_F({"export_statement"}),
    loops=_F({"for_statement", "for_in_statement", "while_statement", "do_statement"}),
    sequences=_F({"sequence_expression"}),
    tuples=_F({"array"}),
    objects=_F({"object"}),
    subscripts={"subscript_expression": ("object", "index")},
    patterns={
        "object_pattern": "object",
        "array_pattern": "array",
        "pair_pattern": "pair",
        "shorthand_property_identifier_pattern": "short",
        "object_assignment_pattern": "default",
        "assignment_pattern": "default",
    },
    branches=_F(
        {
            "if_statement",
            "else_clause",
            "switch_case",
            "switch_default",
            "ternary_expression",
            "try_statement",
            "catch_clause",
        }
    ),
)
_TS = replace(
    JAVASCRIPT,
    casts=_F({"as_expression"}),
    transparent=JAVASCRIPT.transparent - {"as_expression"},
    objects=JAVASCRIPT.objects | {"object_type"},  # ``let p: { x: number }``
    tuples=JAVASCRIPT.tuples | {"tuple_type"},  # ``let t: [A, B]``
    type_arguments="type_arguments",
    # The built-in collections: ``Array<V>`` (like ``V[]``), ``Map<K, V>``, ``Promise<V>``
    # are written as their element's instance (``await p``, ``xs[i]``, ``for (x of xs)``).
    containers=_F(
        {
            "Array",
            "ReadonlyArray",
            "Set",
            "ReadonlySet",
            "WeakSet",
            "Map",
            "ReadonlyMap",
            "WeakMap",
            "Record",
            "Promise",
            "PromiseLike",
            "Iterable",
            "IterableIterator",
            "Iterator",
            "AsyncIterable",
            "AsyncIterableIterator",
        }
    ),
)
TYPESCRIPT = replace(_TS, name="typescript", extensions=_F({".ts", ".mts", ".cts"}))
TSX = replace(_TS, name="tsx", extensions=_F({".tsx"}))
JS_PROFILE = Profile(
    language="javascript",
    languages=_F({"javascript", "typescript", "tsx"}),
    class_scope_encloses=False,
    flow_sensitive=False,
    flow_languages=_F({"javascript"}),
    member_values=_F({"typescript", "tsx"}),
    function_classes=True,
    global_kinds=_F({"global"}),
    exported_only=True,
    rebinding_kills=False,
    hidden_kinds=_F({"attribute", "constructor", "export"}),
    module_sites=False,
    builtins=_F(
        {
            "console",
            "window",
            "document",
            "require",
            "module",
            "exports",
            "process",
            "Object",
            "Array",
            "String",
            "Number",
            "Math",
            "JSON",
            "Promise",
            "Error",
            "Map",
            "Set",
            "Symbol",
            "Date",
            "RegExp",
            "parseInt",
            "parseFloat",
            "setTimeout",
            "setInterval",
            "alert",
            "undefined",
            "globalThis",
        }
    ),
)
