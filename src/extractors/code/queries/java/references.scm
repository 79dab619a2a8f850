; Uses of names in Java.

(identifier) @name
(type_identifier) @name

(field_access field: (identifier) @member)
(method_invocation name: (identifier) @member)
(scoped_type_identifier (type_identifier) @member .)
(method_reference (identifier) @member .)

(method_invocation name: (_) @callee)
(object_creation_expression type: (_) @callee)

(labeled_statement (identifier) @skip)
(scoped_identifier) @skip
(package_declaration (identifier) @skip)
(import_declaration (identifier) @skip)
