; Uses of names in Kotlin.

(simple_identifier) @name
(type_identifier) @name
(interpolated_identifier) @name

(navigation_suffix (simple_identifier) @member)

(call_expression . (_) @callee)

(value_argument (simple_identifier) @skip "=")
(package_header (identifier (simple_identifier) @skip))
(import_header (identifier (simple_identifier) @skip))
(label) @skip
