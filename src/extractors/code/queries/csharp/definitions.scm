; Definitions of C#: namespaces, types, methods, constructors, properties, fields, locals.

; A generic type's scope starts at its type parameters (``class Box<T> where T : Shape``).
(class_declaration name: (identifier) @name (type_parameter_list)? @params body: (_) @body)
  @definition.class
(interface_declaration name: (identifier) @name (type_parameter_list)? @params body: (_) @body)
  @definition.interface
(struct_declaration name: (identifier) @name (type_parameter_list)? @params body: (_) @body)
  @definition.struct
(enum_declaration name: (identifier) @name body: (_) @body) @definition.enum
(record_declaration name: (identifier) @name) @definition.record

(class_declaration (base_list (_) @base)) @heritage
(interface_declaration (base_list (_) @base)) @heritage
(struct_declaration (base_list (_) @base)) @heritage
(record_declaration (base_list (_) @base)) @heritage

(method_declaration
  returns: (_) @returns
  name: (identifier) @name
  parameters: (parameter_list) @params
  body: (_)? @body) @definition.method
; An extension method (``Tax(this Order o)``) is a member of the type it extends.
((method_declaration parameters: (parameter_list . (parameter (modifier) @_this
  type: (_) @extends))) @heritage
  (#eq? @_this "this"))

(constructor_declaration
  name: (identifier) @name
  parameters: (parameter_list) @params
  body: (_)? @body) @definition.constructor

(local_function_statement
  name: (identifier) @name
  parameters: (parameter_list) @params
  body: (_)? @body) @definition.function

(lambda_expression) @definition.lambda

(field_declaration (variable_declaration type: (_) @type
  (variable_declarator name: (identifier) @name (_)? @value))) @field
(property_declaration type: (_) @type name: (identifier) @name) @field
(local_declaration_statement (variable_declaration type: (_) @type
  (variable_declarator name: (identifier) @name (_)? @value))) @local
(parameter type: (_)? @type name: (identifier) @name) @param
; ``foreach (var line in lines)``: an element of lines (a List<Line> is written as a Line).
(foreach_statement type: (_) @type left: (identifier) @name right: (_) @value) @local
(lambda_expression parameters: (implicit_parameter) @name) @param
; ``orders.Where(o => o.Paid)``: a lambda given to a method of orders takes its elements.
(invocation_expression function: (member_access_expression expression: (_) @value)
  arguments: (argument_list (argument (lambda_expression
    parameters: [(implicit_parameter) @name (parameter_list . (parameter name: (identifier) @name))]))))
  @param
(catch_declaration type: (_) @type name: (identifier) @name) @local
(declaration_expression type: (_) @type name: (identifier) @name) @local
(enum_member_declaration name: (identifier) @name) @field

(assignment_expression left: (member_access_expression) @target
  right: (_) @value) @assign
; A type parameter names a type inside its declaration; a constraint (``where T : Shape``)
; makes a T a Shape.
(type_parameter_list (type_parameter name: (identifier) @name)) @typeparam
(_ (type_parameter_list (type_parameter name: (identifier) @name))
  (type_parameter_constraints_clause . (identifier) @_of
    (type_parameter_constraint type: (_) @value))
  (#eq? @name @_of)) @typeparam
(return_statement (_) @value) @return
(arrow_expression_clause (_) @value) @return
(namespace_declaration name: (_) @name) @package
(file_scoped_namespace_declaration name: (_) @name) @package
