; inherits: ecmascript
; Uses of names in JavaScript. Every identifier is a candidate; definition sites are dropped,
; member names become dotted references, and call targets are marked.

(identifier) @name
(shorthand_property_identifier) @name

(member_expression property: (_) @member)

(call_expression function: (_) @callee)
(new_expression constructor: (_) @callee)

(pair key: (property_identifier) @skip)
(jsx_attribute (property_identifier) @skip)
(labeled_statement label: (statement_identifier) @skip)
