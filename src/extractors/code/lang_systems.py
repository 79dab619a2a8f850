"""The compiled systems languages' specs (Go, Rust, C, C++) and resolver profiles; the
extractors are in ``languages.py``.
"""

from __future__ import annotations

from extractors.code.evaluate import Profile
from extractors.code.lang_spec import LangSpec

_F = frozenset

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
