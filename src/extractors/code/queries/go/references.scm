; Uses of names in Go.

(identifier) @name
(type_identifier) @name
(package_identifier) @name

(selector_expression field: (field_identifier) @member)
(qualified_type name: (type_identifier) @member)

(call_expression function: (_) @callee)
(composite_literal type: (_) @callee)

(keyed_element . (literal_element (identifier) @skip))
