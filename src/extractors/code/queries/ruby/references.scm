; Uses of names in Ruby.

(identifier) @name
(constant) @name

(call method: (_) @member)
(scope_resolution name: (_) @member)

(call method: (_) @callee)
(instance_variable) @name
