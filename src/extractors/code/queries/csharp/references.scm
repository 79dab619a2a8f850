; Uses of names in C#.

(identifier) @name

(member_access_expression name: (identifier) @member)
(qualified_name name: (identifier) @member)

(invocation_expression function: (_) @callee)
(object_creation_expression type: (_) @callee)

(using_directive (_) @skip)
(namespace_declaration name: (_) @skip)
(file_scoped_namespace_declaration name: (_) @skip)
(argument name: (identifier) @skip)
(attribute name: (_) @skip)
