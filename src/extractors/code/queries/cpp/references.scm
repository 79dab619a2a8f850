; Uses of names in C++.

(identifier) @name
(type_identifier) @name
(namespace_identifier) @name

(field_expression field: (_) @member)
(qualified_identifier name: (_) @member)

(call_expression function: (_) @callee)
(new_expression type: (_) @callee)

(preproc_include (_) @skip)
(access_specifier) @skip
(primitive_type) @skip
