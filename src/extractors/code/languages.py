"""The built-in tree-sitter languages: a :class:`LangSpec`, a resolver :class:`Profile` and a
one-line extractor class each, registered as ``kg.extractors`` entry points.

Adding a language: write ``queries/<grammar>/{definitions,imports,references}.scm``, add a
spec and a profile here (or reuse a family's profile), an entry point, and a test.
"""

from __future__ import annotations

from dataclasses import replace

from extractors.base import FileExtract, SourceFile
from extractors.code.evaluate import Profile
from extractors.code.lang_spec import LangSpec
from extractors.code.projects import CONFIG_NAMES, config_extract
from extractors.code.treesitter import TreeSitterExtractor

_F = frozenset
_C_COMMENTS = _F({"comment", "line_comment", "block_comment", "multiline_comment"})

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

# -- Go --------------------------------------------------------------------------------------
GO = LangSpec(
    name="go",
    extensions=_F({".go"}),
    module_style="dir",
    import_style="go",
    identifiers=_F({"identifier", "field_identifier", "type_identifier", "package_identifier"}),
    members={"selector_expression": ("operand", "field"), "qualified_type": ("package", "name")},
    calls={"call_expression": ("function", "arguments")},
    news={"composite_literal": ("type", "")},
    transparent=_F(
        {
            "parenthesized_expression",
            "pointer_type",
            "unary_expression",
            "expression_list",
            "generic_type",
            "type_conversion_expression",
        }
    ),
    lists=_F({"expression_list"}),
    wrappers=_F({"type_declaration"}),
)
GO_PROFILE = Profile(
    language="go",
    class_scope_encloses=True,
    flow_sensitive=False,
    hidden_kinds=_F({"constructor"}),
    package_scope=True,
    open_classes=True,
    suffix_imports=True,
    builtins=_F(
        {
            "len",
            "cap",
            "make",
            "new",
            "append",
            "copy",
            "delete",
            "panic",
            "recover",
            "print",
            "println",
            "close",
            "error",
            "string",
            "int",
            "float64",
        }
    ),
)

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

# -- Rust ------------------------------------------------------------------------------------
RUST = LangSpec(
    name="rust",
    extensions=_F({".rs"}),
    module_style="rust",
    import_style="rust",
    identifiers=_F({"identifier", "field_identifier", "type_identifier"}),
    members={
        "field_expression": ("value", "field"),
        "scoped_identifier": ("path", "name"),
        "scoped_type_identifier": ("path", "name"),
    },
    calls={"call_expression": ("function", "arguments")},
    news={"struct_expression": ("name", "")},
    transparent=_F(
        {
            "parenthesized_expression",
            "reference_expression",
            "reference_type",
            "generic_type",
            "try_expression",
            "await_expression",
            "pointer_type",
            "unary_expression",
        }
    ),
    receiver_types=_F({"self"}),
    receiver_texts=_F({"Self"}),
    comment_types=_F({"line_comment", "block_comment"}),
    wrappers=_F(),
)
RUST_PROFILE = Profile(
    language="rust",
    class_scope_encloses=True,  # an inline mod body is seen from its functions
    flow_sensitive=True,  # ``let x = x + 1`` shadows: a use sees the latest let before it
    hidden_kinds=_F({"constructor"}),
    open_classes=True,
    builtins=_F(
        {
            "Some",
            "None",
            "Ok",
            "Err",
            "Box",
            "Vec",
            "String",
            "Option",
            "Result",
            "println",
            "format",
            "vec",
            "panic",
            "assert",
            "Self",
        }
    ),
)

# -- C / C++ ---------------------------------------------------------------------------------
C = LangSpec(
    name="c",
    extensions=_F({".c", ".h"}),
    module_style="path",
    import_style="c",
    identifiers=_F({"identifier", "field_identifier", "type_identifier"}),
    members={"field_expression": ("argument", "field")},
    calls={"call_expression": ("function", "arguments")},
    transparent=_F({"parenthesized_expression", "pointer_expression", "cast_expression"}),
)
CPP = LangSpec(
    name="cpp",
    extensions=_F({".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx", ".h++", ".c++"}),
    module_style="path",
    import_style="c",
    identifiers=_F({"identifier", "field_identifier", "type_identifier", "namespace_identifier"}),
    members={"field_expression": ("argument", "field"), "qualified_identifier": ("scope", "name")},
    calls={"call_expression": ("function", "arguments")},
    news={"new_expression": ("type", "arguments")},
    transparent=_F(
        {
            "parenthesized_expression",
            "pointer_expression",
            "template_type",
            "template_function",
            "cast_expression",
            "reference_declarator",
            "pointer_declarator",
        }
    ),
    receiver_types=_F({"this"}),
)
C_PROFILE = Profile(
    language="c",
    languages=_F({"c", "cpp"}),
    class_scope_encloses=True,
    flow_sensitive=False,
    hidden_kinds=_F({"constructor"}),
    open_classes=True,
    global_scope=True,  # external linkage: a program's files share their top-level names
    headers=_F({".h", ".hh", ".hpp", ".hxx", ".h++"}),
    suffix_imports=True,
    builtins=_F({"printf", "malloc", "free", "sizeof", "memcpy", "strlen", "std", "NULL"}),
)

# -- Ruby / PHP ------------------------------------------------------------------------------
RUBY = LangSpec(
    name="ruby",
    extensions=_F({".rb"}),
    module_style="path",
    import_style="ruby",
    identifiers=_F({"identifier", "constant", "simple_symbol"}),  # ``attr_reader :name``
    members={"scope_resolution": ("scope", "name")},
    method_calls={"call": ("receiver", "method", "arguments")},
    transparent=_F({"parenthesized_statements"}),
    receiver_types=_F({"self"}),
    super_types=_F({"super"}),
    instance_vars=_F({"instance_variable"}),
    ctor_method="new",
    strip_name=":",
)
RUBY_PROFILE = Profile(
    language="ruby",
    lambda_receiver=True,
    member_values=_F({"ruby"}),
    class_scope_encloses=True,
    flow_sensitive=False,
    hidden_kinds=_F({"constructor"}),
    global_scope=True,
    open_classes=True,
    suffix_imports=True,
    builtins=_F(
        {
            "puts",
            "print",
            "require",
            "require_relative",
            "attr_accessor",
            "attr_reader",
            "raise",
            "new",
            "p",
            "include",
            "extend",
        }
    ),
)
PHP = LangSpec(
    name="php",
    extensions=_F({".php"}),
    module_style="package",
    import_style="php",
    identifiers=_F({"name", "variable_name", "relative_scope"}),
    members={
        "member_access_expression": ("object", "name"),
        "class_constant_access_expression": ("0", "1"),
        "qualified_name": ("prefix", "-1"),
        "scoped_property_access_expression": ("scope", "name"),
    },
    method_calls={
        "member_call_expression": ("object", "name", "arguments"),
        "scoped_call_expression": ("scope", "name", "arguments"),
        "nullsafe_member_call_expression": ("object", "name", "arguments"),
    },
    calls={"function_call_expression": ("function", "arguments")},
    news={"object_creation_expression": ("0", "1")},
    transparent=_F(
        {"parenthesized_expression", "argument", "named_type", "optional_type", "namespace_name"}
    ),
    receiver_texts=_F({"$this", "self", "static"}),
    super_texts=_F({"parent"}),
    strip_name="\\",
)
PHP_PROFILE = Profile(
    language="php",
    methods_apart=True,  # ``$this->name`` is the property, ``$this->name()`` the method
    lambda_receiver=True,
    member_values=_F({"php"}),
    class_scope_encloses=False,
    flow_sensitive=False,
    hidden_kinds=_F({"constructor"}),
    package_scope=True,
    open_classes=False,
    builtins=_F({"echo", "print", "count", "strlen", "array_map", "isset", "empty"}),
)


class JavaScriptExtractor(TreeSitterExtractor):
    spec, profile = JAVASCRIPT, JS_PROFILE

    def __init__(self) -> None:
        super().__init__()
        # Project files decide what the family's import paths mean (``projects.py``).
        self.extensions = self.spec.extensions | CONFIG_NAMES

    def extract_file(self, file: SourceFile) -> FileExtract:
        if file.path.rpartition("/")[2] in CONFIG_NAMES:
            return config_extract(file, self.spec.name)
        return super().extract_file(file)


class TypeScriptExtractor(TreeSitterExtractor):
    spec, profile = TYPESCRIPT, JS_PROFILE


class TsxExtractor(TreeSitterExtractor):
    spec, profile = TSX, JS_PROFILE


class GoExtractor(TreeSitterExtractor):
    spec, profile = GO, GO_PROFILE


class JavaExtractor(TreeSitterExtractor):
    spec, profile = JAVA, JVM_PROFILE


class KotlinExtractor(TreeSitterExtractor):
    spec, profile = KOTLIN, KOTLIN_PROFILE


class CSharpExtractor(TreeSitterExtractor):
    spec, profile = CSHARP, CSHARP_PROFILE


class RustExtractor(TreeSitterExtractor):
    spec, profile = RUST, RUST_PROFILE


class CExtractor(TreeSitterExtractor):
    spec, profile = C, C_PROFILE


class CppExtractor(TreeSitterExtractor):
    spec, profile = CPP, C_PROFILE


class RubyExtractor(TreeSitterExtractor):
    spec, profile = RUBY, RUBY_PROFILE


class PhpExtractor(TreeSitterExtractor):
    spec, profile = PHP, PHP_PROFILE
