; Definitions of Kotlin: classes, interfaces and objects, functions, properties, parameters.

(class_declaration (type_identifier) @name (primary_constructor)? @params
  (class_body)? @body) @definition.class
(object_declaration (type_identifier) @name (class_body)? @body) @definition.object
; A companion object is no scope of its own: its members are the class's (``Circle.unit()``).

(class_declaration (delegation_specifier [(user_type) @base
  (constructor_invocation (user_type) @base)])) @heritage
(object_declaration (delegation_specifier [(user_type) @base
  (constructor_invocation (user_type) @base)])) @heritage

(function_declaration
  (simple_identifier) @name
  (function_value_parameters) @params
  (user_type)? @returns
  (function_body)? @body) @definition.function

(secondary_constructor (function_value_parameters) @params) @definition.constructor
(lambda_literal) @definition.lambda

(class_parameter (simple_identifier) @name (user_type)? @type) @field
(property_declaration (variable_declaration (simple_identifier) @name (user_type)? @type)
  (_)? @value) @local
(parameter (simple_identifier) @name (user_type)? @type) @param
(for_statement (variable_declaration (simple_identifier) @name)) @local
(lambda_parameters (variable_declaration (simple_identifier) @name)) @param

(jump_expression (_) @value) @return
(package_header (identifier) @name) @package
