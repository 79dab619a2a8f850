; inherits: ecmascript
; Definitions of JavaScript: classes, functions, methods, bindings and returns.
; The primary capture names what each pattern is; generic_syntax.py reads the others.

(class_declaration
  name: (_) @name
  (class_heritage (_) @base)?
  body: (class_body) @body) @definition.class

; A class expression without a name is an anonymous class (``(class { y = 1 })``).
(class !name (class_heritage (_) @base)? body: (class_body) @body) @definition.class

(class
  name: (_) @name
  (class_heritage (_) @base)?
  body: (class_body) @body) @definition.class

(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @definition.function

(method_definition
  name: (_) @name
  parameters: (formal_parameters) @params
  body: (statement_block) @body) @definition.method

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function parameters: (_) @params) (arrow_function parameter: (_) @params)
          (function_expression parameters: (_) @params)
          (generator_function parameters: (_) @params)] @body
  ) @definition.function

(arrow_function) @definition.lambda
(function_expression) @definition.lambda
(generator_function) @definition.lambda
; A class's static block runs once with ``this`` the class.
(class_static_block) @definition.lambda

(lexical_declaration (variable_declarator name: (_) @name value: (_)? @value) @local)
(variable_declaration (variable_declarator name: (_) @name value: (_)? @value) @local @hoist)

; Block scopes: ``let``/``const`` inside braces and loop heads are not seen outside them
; (``var`` is hoisted to its function: @hoist).
(statement_block (statement_block) @definition.block)
(program (statement_block) @definition.block)
(if_statement consequence: (statement_block) @definition.block)
(else_clause (statement_block) @definition.block)
(for_in_statement) @definition.block
(for_statement) @definition.block
(while_statement body: (statement_block) @definition.block)
(try_statement body: (statement_block) @definition.block)
(do_statement body: (statement_block) @definition.block)
(catch_clause body: (statement_block) @definition.block)
(finally_clause body: (statement_block) @definition.block)
(with_statement body: (statement_block) @definition.block)
(switch_statement body: (switch_body) @definition.block)
(formal_parameters (identifier) @name) @param
; A default value is what the parameter holds when a call passes nothing.
(formal_parameters (assignment_pattern left: (identifier) @name right: (_) @value)) @param
(formal_parameters (assignment_pattern left: [(object_pattern) (array_pattern)] @name)) @param
(formal_parameters (rest_pattern (identifier) @name)) @param
(formal_parameters [(object_pattern) (array_pattern)] @name) @param
(arrow_function parameter: (identifier) @name) @param
(catch_clause parameter: (identifier) @name) @local
(field_definition property: (property_identifier) @name value: (_)? @value) @field

(assignment_expression
  left: (member_expression object: (this)) @target
  right: (_) @value) @assign

(return_statement (_) @value) @return

(export_statement "default" value: (_) @value) @default
(export_statement "default" declaration: (_ name: (_) @value)) @default

; CommonJS: ``exports.x = ...`` and ``module.exports.x = ...`` define the module's ``x``.
(expression_statement (assignment_expression
  left: (member_expression object: (identifier) @_exports property: (property_identifier) @name)
  right: (_) @value) @local
  (#eq? @_exports "exports"))
(expression_statement (assignment_expression
  left: (member_expression
    object: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
    property: (property_identifier) @name)
  right: (_) @value) @local
  (#eq? @_module "module") (#eq? @_exports "exports"))

; An object literal bound to a name is that name's namespace (``obj.x``, ``f(obj).x``).
(variable_declarator name: (identifier) @name value: (object) @body) @definition.object

; ``let Foo = class { ... }``: the class takes the name it is bound to.
(variable_declarator
  name: (identifier) @name
  value: (class (class_heritage (_) @base)? body: (class_body) @body)) @definition.class


; An assignment to a plain name binds it too: a later use may read either value (@rebind: it
; does not hide the declaration; @hoist: it is seen past the block it sits in). ``x++`` and
; ``x += 1`` also read ``x`` (@keep; on the name: tree-sitter keeps at most three captures of
; one node).
(assignment_expression left: (identifier) @name right: (_) @value) @local @hoist @rebind
(augmented_assignment_expression left: (identifier) @name @keep right: (_) @value) @local @hoist @rebind
(update_expression argument: (identifier) @name @keep) @local @hoist @rebind

; ``module.exports = value`` is the module's default export, and the keys of an object literal
; assigned there are the module's names (what ``require`` gives).
(expression_statement (assignment_expression
  left: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
  right: (_) @value) @default
  (#eq? @_module "module") (#eq? @_exports "exports"))
(expression_statement (assignment_expression
  left: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
  right: (object (pair key: (property_identifier) @name value: (_) @value) @export))
  (#eq? @_module "module") (#eq? @_exports "exports"))
(expression_statement (assignment_expression
  left: (member_expression object: (identifier) @_module property: (property_identifier) @_exports)
  right: (object (shorthand_property_identifier) @name @value @export))
  (#eq? @_module "module") (#eq? @_exports "exports"))
