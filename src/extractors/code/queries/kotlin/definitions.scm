; Definitions of Kotlin: classes, interfaces and objects, functions, properties, parameters.

; A generic type's scope starts at its type parameters (``class Box<T : Shape>``).
(class_declaration (type_identifier) @name (type_parameters)? @params (primary_constructor)? @params
  [(class_body) (enum_class_body)]? @body) @definition.class
(object_declaration (type_identifier) @name (class_body)? @body) @definition.object
; A companion object is no scope of its own: its members are the class's (``Circle.unit()``).

(class_declaration (delegation_specifier [(user_type) @base
  (constructor_invocation (user_type) @base)])) @heritage
(object_declaration (delegation_specifier [(user_type) @base
  (constructor_invocation (user_type) @base)])) @heritage

; An extension function (``fun Item.label()``) is a member of its receiver type, and a name
; of its package too (``import com.shop.label``).
(function_declaration
  receiver: (receiver_type (_) @receiver @extension)?
  (simple_identifier) @name
  (function_value_parameters) @params
  [(user_type) (nullable_type)]? @returns
  (function_body)? @body) @definition.function

(secondary_constructor (function_value_parameters) @params) @definition.constructor
(lambda_literal) @definition.lambda

(class_parameter (simple_identifier) @name [(user_type) (nullable_type)]? @type) @field
(property_declaration (variable_declaration (simple_identifier) @name
  [(user_type) (nullable_type)]? @type) (_)? @value) @local
(parameter (simple_identifier) @name [(user_type) (nullable_type)]? @type) @param
; A type parameter names a type inside its declaration; a bound (``T : Shape``): a T is a Shape.
(type_parameters (type_parameter (type_identifier) @name (user_type)? @value) @typeparam)
; ``for (item in items)``: an element of items (a List<Item> is written as an Item).
(for_statement (variable_declaration (simple_identifier) @name) . (_) @value) @local
(lambda_parameters (variable_declaration (simple_identifier) @name)) @param
; ``items.forEach { item -> }``: a lambda given to a method of items takes its elements.
(call_expression (navigation_expression . (_) @value) (call_suffix (annotated_lambda (lambda_literal
  (lambda_parameters . (variable_declaration (simple_identifier) @name)))))) @param
; An enum entry is an instance of its enum (``Level.LOW.weight``).
(class_declaration (type_identifier) @type
  (enum_class_body (enum_entry (simple_identifier) @name))) @field

; Block scopes: a local inside braces of if/when/for/while is not seen outside them.
(control_structure_body) @definition.block
(when_entry) @definition.block

(jump_expression (_) @value) @return
(package_header (identifier) @name) @package
