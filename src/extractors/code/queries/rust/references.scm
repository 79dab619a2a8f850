; Uses of names in Rust.

(identifier) @name
(type_identifier) @name

(field_expression field: (field_identifier) @member)
(scoped_identifier name: (identifier) @member)
(scoped_type_identifier name: (type_identifier) @member)

(call_expression function: (_) @callee)
(struct_expression name: (_) @callee)
(macro_invocation macro: (identifier) @callee)

(use_declaration (_) @skip)
(field_initializer field: (field_identifier) @skip)
(shorthand_field_initializer (identifier) @skip)
(lifetime (identifier) @skip)
(attribute_item (_) @skip)
(primitive_type) @skip
