; Uses of names in C.

(identifier) @name
(type_identifier) @name

(field_expression field: (field_identifier) @member)

(call_expression function: (_) @callee)

(initializer_pair designator: (_) @skip)
(preproc_include (_) @skip)
