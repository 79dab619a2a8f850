; Uses of names in Ruby.

(identifier) @name
(constant) @name

; ``super(x)`` is no name written at its site (it calls the base's method of the same name).
(call method: [(identifier) (constant) (operator)] @member)
(scope_resolution name: (_) @member)

(call method: (_) @callee)
(instance_variable) @name
