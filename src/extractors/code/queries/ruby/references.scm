; Uses of names in Ruby.

(identifier) @name
(constant) @name

; ``super(x)`` is no name written at its site (it calls the base's method of the same name);
; ``Point.new(x)`` calls the class written before it (its use there), not a method ``new``.
((call method: [(identifier) (constant) (operator)] @member) (#not-eq? @member "new"))
(call receiver: (_) @callee method: (identifier) @_new (#eq? @_new "new"))
(scope_resolution name: (_) @member)

(call method: (_) @callee)
(instance_variable) @name
