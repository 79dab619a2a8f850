; Definitions of Java: types, methods and constructors, fields, locals, parameters, returns.

; A generic type's scope starts at its type parameters (``class Box<T> extends Base<T>``).
(class_declaration name: (identifier) @name type_parameters: (_)? @params body: (_) @body) @definition.class
(interface_declaration name: (identifier) @name type_parameters: (_)? @params body: (_) @body) @definition.interface
(enum_declaration name: (identifier) @name body: (_) @body) @definition.enum
(record_declaration name: (identifier) @name body: (_) @body) @definition.record
(annotation_type_declaration name: (identifier) @name body: (_) @body) @definition.interface

(class_declaration superclass: (superclass (_) @base)) @heritage
(class_declaration interfaces: (super_interfaces (type_list (_) @base))) @heritage
(interface_declaration (extends_interfaces (type_list (_) @base))) @heritage
(enum_declaration interfaces: (super_interfaces (type_list (_) @base))) @heritage
(record_declaration interfaces: (super_interfaces (type_list (_) @base))) @heritage

(method_declaration
  type: (_) @returns
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (block)? @body) @definition.method

(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @params
  body: (constructor_body) @body) @definition.constructor

(lambda_expression) @definition.lambda

(field_declaration type: (_) @type declarator: (variable_declarator name: (identifier) @name
  value: (_)? @value)) @field
(local_variable_declaration type: (_) @type declarator: (variable_declarator
  name: (identifier) @name value: (_)? @value) (#not-eq? @type "var")) @local
; ``var x = new Item()``, ``for (var x : items)``: the type is the value's.
(local_variable_declaration type: (type_identifier) @_var declarator: (variable_declarator
  name: (identifier) @name value: (_) @value) (#eq? @_var "var")) @local
(formal_parameter type: (_) @type name: (identifier) @name) @param
(spread_parameter (variable_declarator name: (identifier) @name)) @param
(catch_formal_parameter (catch_type (_) @type) name: (identifier) @name) @local
(enhanced_for_statement type: (_) @type name: (identifier) @name (#not-eq? @type "var")) @local
(enhanced_for_statement type: (type_identifier) @_var name: (identifier) @name value: (_) @value
  (#eq? @_var "var")) @local
(resource type: (_) @type name: (identifier) @name value: (_) @value) @local
(lambda_expression parameters: (identifier) @name) @param
(inferred_parameters (identifier) @name) @param
; ``items.forEach(x -> x.total())``: a lambda given to a method of items takes its elements
; (a List<Item> is written as an Item).
(method_invocation object: (_) @value arguments: (argument_list (lambda_expression
  parameters: [(identifier) @name (inferred_parameters . (identifier) @name)]))) @param
; An enum constant is an instance of its enum (``Color.RED.flip()``).
(enum_declaration name: (identifier) @type
  body: (enum_body (enum_constant name: (identifier) @name))) @field
(labeled_statement (identifier) @name) @local
; ``o instanceof Shape t``: t is a Shape from there on.
(instanceof_expression right: (_) @type name: (identifier) @name) @local
(record_declaration parameters: (formal_parameters (formal_parameter type: (_) @type
  name: (identifier) @name))) @field

(return_statement (_) @value) @return
(package_declaration (_) @name) @package

; Block scopes: a local inside braces or a loop head is not seen outside them.
(block (block) @definition.block)
(for_statement) @definition.block
(enhanced_for_statement) @definition.block
(if_statement consequence: (block) @definition.block)
(if_statement alternative: (block) @definition.block)
(while_statement body: (block) @definition.block)

; A type parameter (``class Box<T>``, ``<T> T first()``) names a type inside its declaration.
(type_parameters (type_parameter (type_identifier) @name (type_bound . (_) @value)?) @typeparam)
