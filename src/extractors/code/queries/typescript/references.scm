; inherits: ecmascript
; Uses of names in TypeScript: JavaScript's plus type names.

(identifier) @name
(type_identifier) @name
(shorthand_property_identifier) @name

(member_expression property: (_) @member)
(nested_type_identifier name: (_) @member)

(call_expression function: (_) @callee)
(new_expression constructor: (_) @callee)

(pair key: (property_identifier) @skip)
(labeled_statement label: (statement_identifier) @skip)
(predefined_type) @skip

; ``M.N.A``: ``N`` is a member of ``M``.
(nested_identifier property: (_) @member)
