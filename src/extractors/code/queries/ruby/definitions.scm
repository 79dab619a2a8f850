; Definitions of Ruby: modules, classes (reopened anywhere), methods, assignments.

(module name: (_) @name body: (_)? @body) @definition.module
(class name: (_) @name superclass: (superclass (_) @base)? body: (_)? @body) @definition.class
; ``class << self``: its methods are the enclosing class's own (no scope of their own).
((singleton_class value: (_) @receiver body: (_)? @body) @definition.impl
  (#not-eq? @receiver "self"))
; ``include Loggable`` lends a module's methods to the class or module; ``extend Registry`` to
; the class itself (a class's own members are not kept apart from its instances').
((class body: (body_statement (call method: (identifier) @_mixin
  arguments: (argument_list (_) @base)))) @heritage
  (#match? @_mixin "^(include|extend|prepend)$"))
((module body: (body_statement (call method: (identifier) @_mixin
  arguments: (argument_list (_) @base)))) @heritage
  (#match? @_mixin "^(include|extend|prepend)$"))

(method name: (_) @name parameters: (method_parameters)? @params body: (_)? @body)
  @definition.method
(singleton_method name: (_) @name parameters: (method_parameters)? @params body: (_)? @body)
  @definition.method

[(block) (do_block) (lambda)] @definition.lambda

(method_parameters (identifier) @name) @param
(method_parameters (optional_parameter name: (identifier) @name)) @param
(method_parameters (keyword_parameter name: (identifier) @name)) @param
(block_parameters (identifier) @name) @param
(lambda_parameters (identifier) @name) @param
(assignment left: (identifier) @name right: (_) @value) @local
(assignment left: (constant) @name right: (_) @value) @local
(assignment left: (instance_variable) @target right: (_) @value) @assign
(for pattern: (identifier) @name) @local
; ``attr_reader :owner`` defines the method ``owner`` (and ``attr_writer`` ``owner=``).
((call method: (identifier) @_attr arguments: (argument_list (simple_symbol) @name)) @field
  (#match? @_attr "^attr_(reader|writer|accessor)$"))

; A method's value is its last statement (trailing comments are none).
(([(method body: (body_statement (_) @value (comment)* .))
   (singleton_method body: (body_statement (_) @value (comment)* .))] @return)
  (#not-match? @value "^(#|=begin)"))
(return (argument_list (_) @value)) @return
