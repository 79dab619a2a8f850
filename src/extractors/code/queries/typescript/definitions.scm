; inherits: ecmascript
; Definitions of TypeScript: JavaScript's plus interfaces, enums, abstract classes,
; namespaces, signatures and typed parameters.

; A generic declaration's scope starts at its type parameters (``class Box<T> extends B<T>``).
[(class_declaration name: (_) @name type_parameters: (_)? @params body: (class_body) @body)
 (abstract_class_declaration name: (_) @name type_parameters: (_)? @params body: (class_body) @body)
 (class name: (_) @name type_parameters: (_)? @params body: (class_body) @body)] @definition.class

; A class expression without a name is an anonymous class (``(class { y = 1 })``).
(class !name body: (class_body) @body) @definition.class

[(class_declaration (class_heritage (extends_clause value: (_) @base)))
 (abstract_class_declaration (class_heritage (extends_clause value: (_) @base)))
 (class (class_heritage (extends_clause value: (_) @base)))] @heritage
[(class_declaration (class_heritage (implements_clause (_) @base)))
 (abstract_class_declaration (class_heritage (implements_clause (_) @base)))
 (class (class_heritage (implements_clause (_) @base)))] @heritage

(interface_declaration
  name: (_) @name
  type_parameters: (_)? @params
  body: (_) @body) @definition.interface
(interface_declaration (extends_type_clause (_) @base)) @heritage

(enum_declaration name: (_) @name body: (_) @body) @definition.enum
(internal_module name: (_) @name body: (_) @body) @definition.namespace
(enum_assignment name: (_) @name) @field
(enum_body (property_identifier) @name) @field

(function_declaration
  name: (identifier) @name
  type_parameters: (_)? @params
  parameters: (formal_parameters) @params
  return_type: (type_annotation (_) @returns)?
  body: (statement_block) @body) @definition.function

(function_signature
  name: (identifier) @name
  type_parameters: (_)? @params
  parameters: (formal_parameters) @params
  return_type: (type_annotation (_) @returns)?) @definition.function

(method_definition
  name: (_) @name
  type_parameters: (_)? @params
  parameters: (formal_parameters) @params
  return_type: (type_annotation (_) @returns)?
  body: (statement_block) @body) @definition.method

[(method_signature name: (_) @name type_parameters: (_)? @params
   parameters: (formal_parameters) @params
   return_type: (type_annotation (_) @returns)?)
 (abstract_method_signature name: (_) @name parameters: (formal_parameters) @params
   return_type: (type_annotation (_) @returns)?)] @definition.method

(variable_declarator
  name: (identifier) @name
  value: (arrow_function
    parameters: (_) @params
    return_type: (type_annotation (_) @returns)?) @body) @definition.function
(variable_declarator
  name: (identifier) @name
  value: (arrow_function parameter: (_) @params) @body) @definition.function
(variable_declarator
  name: (identifier) @name
  value: (function_expression
    parameters: (_) @params
    return_type: (type_annotation (_) @returns)?) @body) @definition.function

(arrow_function) @definition.lambda
(function_expression) @definition.lambda
(generator_function) @definition.lambda
; A class's static block runs once with ``this`` the class.
(class_static_block) @definition.lambda

; A declared type is the value's type; ``typeof e`` is the type of the value ``e`` holds.
(lexical_declaration (variable_declarator name: (_) @name type: (type_annotation (_) @type)?
  value: (_)? @value) @local (#not-match? @type "^typeof"))
(variable_declaration (variable_declarator name: (_) @name type: (type_annotation (_) @type)?
  value: (_)? @value) @local @hoist (#not-match? @type "^typeof"))
(lexical_declaration (variable_declarator name: (_) @name
  type: (type_annotation (type_query (_) @value))) @local)
(variable_declaration (variable_declarator name: (_) @name
  type: (type_annotation (type_query (_) @value))) @local @hoist)

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
(required_parameter pattern: (_) @name type: (type_annotation (_) @type)?) @param
(optional_parameter pattern: (_) @name type: (type_annotation (_) @type)?) @param
(arrow_function parameter: (identifier) @name) @param
(catch_clause parameter: (identifier) @name) @local
(public_field_definition name: (_) @name type: (type_annotation (_) @type)? value: (_)? @value) @field
((property_signature name: (_) @name type: (type_annotation (_) @type)?) @field
  (#not-match? @type "^typeof"))
(property_signature name: (_) @name type: (type_annotation (type_query (_) @value))) @field
(type_alias_declaration name: (_) @name value: (_) @value) @local

; A name declared of a function or constructor type (``let f: <X>(x: X) => V``, a member
; ``cb: (v: V) => W``) is a function: a call of it gives what the type returns.
(variable_declarator name: (identifier) @name
  type: (type_annotation [(function_type type_parameters: (_)? @params parameters: (_) @params
                            return_type: (_) @returns)
                          (constructor_type type_parameters: (_)? @params parameters: (_) @params
                            type: (_) @returns)] @body)) @definition.function
[(property_signature name: (_) @name
   type: (type_annotation (function_type type_parameters: (_)? @params parameters: (_) @params
                            return_type: (_) @returns) @body))
 (public_field_definition name: (_) @name
   type: (type_annotation (function_type type_parameters: (_)? @params parameters: (_) @params
                            return_type: (_) @returns) @body))] @definition.method

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

; An object literal bound to a name is that name's namespace (``obj.x``, ``f(obj).x``); a
; declared type says what the members are instead (``const b: Box = {...}``).
(variable_declarator name: (identifier) @name !type value: (object) @body) @definition.object


; ``let Foo = class { ... }``: the class takes the name it is bound to.
(variable_declarator
  name: (identifier) @name
  value: (class body: (class_body) @body)) @definition.class

; ``type T = { f: number }`` declares a shape as an interface does: ``x.f`` of an ``x: T`` is
; its ``f``.
(type_alias_declaration name: (_) @name value: (object_type) @body) @definition.interface
; An object type written in place (``let p: { x: number }``) is an anonymous one.
(object_type) @definition.object

; A type parameter names a type inside its generic declaration.
; A type parameter stands for the type given, else for its constraint or default.
(type_parameters (type_parameter name: (type_identifier) @name
  constraint: (constraint (_) @value)? value: (default_type (_) @value)?) @typeparam)

; ``export = A``: the module is ``A`` to ``require`` (as ``module.exports = A``).
(export_statement "=" (_) @value) @default

; ``export as namespace A``: every file sees the module as the global name ``A``.
(export_statement "namespace" (identifier) @name) @global
