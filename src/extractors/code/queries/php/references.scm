; Uses of names in PHP.

(name) @name
(variable_name) @name

(member_access_expression name: (name) @member)
(member_call_expression name: (name) @member)
(nullsafe_member_call_expression name: (name) @member)
(scoped_call_expression name: (name) @member)
(class_constant_access_expression (name) @member .)
(scoped_property_access_expression name: (variable_name) @member)

(function_call_expression function: (_) @callee)
(object_creation_expression (_) @callee)

(variable_name (name) @skip)
(namespace_name (name) @skip)
(qualified_name (name) @skip)
(namespace_use_clause (_) @skip)
(named_type (name) @name)
