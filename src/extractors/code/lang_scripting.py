"""The scripting languages' specs (Ruby, PHP) and resolver profiles; the extractors are in
``languages.py``.
"""

from __future__ import annotations

from extractors.code.evaluate import Profile
from extractors.code.lang_spec import LangSpec

_F = frozenset

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
