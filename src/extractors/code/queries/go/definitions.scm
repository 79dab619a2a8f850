; Definitions of Go: structs, interfaces, functions, methods (under their receiver's type),
; declarations and returns.

(type_spec name: (type_identifier) @name type: (struct_type) @body) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type) @body) @definition.interface
; An embedded struct or interface lends its fields and methods (``d.Name()`` of an embedded Base).
(type_spec type: (struct_type (field_declaration_list (field_declaration !name type: (_) @base))))
  @heritage
(type_spec type: (interface_type (type_elem (_) @base))) @heritage

(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @returns
  body: (block)? @body) @definition.function

(method_declaration
  receiver: (parameter_list (parameter_declaration type: (_) @receiver))
  name: (field_identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @returns
  body: (block)? @body) @definition.method

(method_elem
  name: (field_identifier) @name
  parameters: (parameter_list) @params
  result: (_)? @returns) @definition.method

(func_literal) @definition.lambda

(field_declaration name: (field_identifier) @name type: (_) @type) @field
(method_declaration
  receiver: (parameter_list (parameter_declaration name: (identifier) @name))) @self
(function_declaration
  parameters: (parameter_list (parameter_declaration name: (identifier) @name type: (_) @type)))
  @param
(method_declaration
  parameters: (parameter_list (parameter_declaration name: (identifier) @name type: (_) @type)))
  @param
(func_literal
  parameters: (parameter_list (parameter_declaration name: (identifier) @name type: (_) @type)))
  @param

(short_var_declaration left: (expression_list) @name right: (expression_list) @value) @local
(var_spec name: (identifier) @name type: (_)? @type value: (expression_list)? @value) @local
(const_spec name: (identifier) @name value: (_)? @value) @local
(range_clause left: (expression_list) @name) @local
; ``for _, s := range shapes``: s is an element of shapes (a []Shape is written as a Shape).
(range_clause left: (expression_list (_) . (identifier) @name .) right: (_) @value) @local

(return_statement (expression_list) @value) @return
(package_clause (package_identifier) @name) @package
