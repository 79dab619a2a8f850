"""The JVM and .NET languages' specs (Java, Kotlin, C#) and resolver profiles; the
extractors are in ``languages.py``.
"""

from __future__ import annotations

from extractors.code.evaluate import Profile
from extractors.code.lang_spec import LangSpec

_F = frozenset

_C_COMMENTS = _F({"comment", "line_comment", "block_comment", "multiline_comment"})

# -- Java / Kotlin / C# ----------------------------------------------------------------------
# Collections whose instance is written as their element's (see ``LangSpec.containers``).
_JVM_CONTAINERS = _F(
    {
        "List",
        "ArrayList",
        "LinkedList",
        "Set",
        "HashSet",
        "TreeSet",
        "Collection",
        "Iterable",
        "Iterator",
        "Optional",
        "Stream",
        "Map",
        "HashMap",
        "TreeMap",
        "Queue",
        "Deque",
        "ArrayDeque",
        "MutableList",
        "MutableSet",
        "MutableMap",
        "Sequence",
        "Array",
    }
)
_CSHARP_CONTAINERS = _F(
    {
        "List",
        "IList",
        "IEnumerable",
        "ICollection",
        "IReadOnlyList",
        "IReadOnlyCollection",
        "HashSet",
        "ISet",
        "Dictionary",
        "IDictionary",
        "Queue",
        "Stack",
        "IQueryable",
        "Task",
        "ValueTask",
    }
)
JAVA = LangSpec(
    name="java",
    containers=_JVM_CONTAINERS,
    extensions=_F({".java"}),
    module_style="package",
    import_style="java",
    identifiers=_F({"identifier", "type_identifier"}),
    members={
        "field_access": ("object", "field"),
        "scoped_identifier": ("scope", "name"),
        "scoped_type_identifier": ("0", "-1"),
        "method_reference": ("0", "-1"),  # ``Shape::unit``
    },
    method_calls={"method_invocation": ("object", "name", "arguments")},
    news={"object_creation_expression": ("type", "arguments")},
    transparent=_F(
        {"parenthesized_expression", "generic_type", "cast_expression", "annotated_type"}
    ),
    receiver_types=_F({"this"}),
    super_types=_F({"super"}),
    comment_types=_C_COMMENTS,
    wrappers=_F({"modifiers"}),
)
KOTLIN = LangSpec(
    name="kotlin",
    containers=_JVM_CONTAINERS,
    extensions=_F({".kt", ".kts"}),
    module_style="package",
    import_style="java",
    identifiers=_F({"simple_identifier", "type_identifier", "interpolated_identifier"}),
    # ``identifier`` is the dotted name of a package or import header; an assignment's target
    # (``this.total = t``) is a directly assignable expression.
    members={
        "navigation_expression": ("0", "-1"),
        "identifier": ("0", "-1"),
        "directly_assignable_expression": ("0", "-1"),
    },
    calls={"call_expression": ("0", "-1")},
    transparent=_F(
        {
            "parenthesized_expression",
            "navigation_suffix",
            "user_type",
            "nullable_type",
            "call_suffix",
            "value_argument",
            "value_arguments",
            "annotated_lambda",
        }
    ),
    receiver_types=_F({"this_expression"}),
    super_types=_F({"super_expression"}),
    comment_types=_C_COMMENTS,
)
CSHARP = LangSpec(
    name="csharp",
    containers=_CSHARP_CONTAINERS,
    extensions=_F({".cs"}),
    module_style="package",
    import_style="csharp",
    identifiers=_F({"identifier", "implicit_parameter"}),
    members={
        "member_access_expression": ("expression", "name"),
        "qualified_name": ("qualifier", "name"),
    },
    calls={"invocation_expression": ("function", "arguments")},
    news={"object_creation_expression": ("type", "arguments")},
    transparent=_F(
        {
            "parenthesized_expression",
            "generic_name",
            "nullable_type",
            "argument",
            "await_expression",
            "cast_expression",
        }
    ),
    receiver_types=_F({"this_expression", "this"}),
    super_types=_F({"base_expression", "base"}),
    comment_types=_C_COMMENTS,
)
JVM_PROFILE = Profile(
    language="java",
    lambda_receiver=True,
    member_values=_F({"java"}),
    class_scope_encloses=True,
    flow_sensitive=False,
    methods_apart=True,
    hidden_kinds=_F({"constructor"}),
    package_scope=True,
    builtins=_F(
        {
            "System",
            "String",
            "Object",
            "Math",
            "Integer",
            "List",
            "Map",
            "println",
            "print",
            "listOf",
            "mutableListOf",
            "mapOf",
            "setOf",
            "require",
            "check",
        }
    ),
)
KOTLIN_PROFILE = Profile(
    language="kotlin",
    lambda_receiver=True,
    member_values=_F({"kotlin"}),
    class_scope_encloses=True,
    flow_sensitive=False,
    methods_apart=True,
    hidden_kinds=_F({"constructor"}),
    package_scope=True,
    builtins=JVM_PROFILE.builtins,
)
CSHARP_PROFILE = Profile(
    language="csharp",
    lambda_receiver=True,
    extensions=True,
    member_values=_F({"csharp"}),
    class_scope_encloses=True,
    flow_sensitive=False,
    hidden_kinds=_F({"constructor"}),
    package_scope=True,
    open_classes=True,
    builtins=_F({"Console", "Math", "String", "Object", "GetType", "ToString", "nameof"}),
)
