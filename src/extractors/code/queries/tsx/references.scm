; inherits: typescript

(jsx_opening_element name: (identifier) @callee)
(jsx_self_closing_element name: (identifier) @callee)
(jsx_attribute (property_identifier) @skip)
