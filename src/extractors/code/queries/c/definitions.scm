; Definitions of C: functions, structs, unions, enums, typedefs, globals, locals, parameters.

(function_definition
  type: (_) @returns
  declarator: (function_declarator declarator: (identifier) @name parameters: (_) @params)
  body: (_) @body) @definition.function
(function_definition
  type: (_) @returns
  declarator: (pointer_declarator declarator: (function_declarator
    declarator: (identifier) @name parameters: (_) @params))
  body: (_) @body) @definition.function

; A prototype declares what another file (or a later line) defines.
(translation_unit (declaration
  declarator: [(function_declarator declarator: (identifier) @name parameters: (_) @params)
               (_ (function_declarator declarator: (identifier) @name parameters: (_) @params))])
  @definition.function)
(preproc_ifdef (declaration
  declarator: [(function_declarator declarator: (identifier) @name parameters: (_) @params)
               (_ (function_declarator declarator: (identifier) @name parameters: (_) @params))])
  @definition.function)
(preproc_if (declaration
  declarator: [(function_declarator declarator: (identifier) @name parameters: (_) @params)
               (_ (function_declarator declarator: (identifier) @name parameters: (_) @params))])
  @definition.function)
(preproc_else (declaration
  declarator: [(function_declarator declarator: (identifier) @name parameters: (_) @params)
               (_ (function_declarator declarator: (identifier) @name parameters: (_) @params))])
  @definition.function)

(struct_specifier name: (type_identifier) @name body: (_) @body) @definition.struct
(union_specifier name: (type_identifier) @name body: (_) @body) @definition.union
(enum_specifier name: (type_identifier) @name body: (_) @body) @definition.enum
(type_definition type: (_) @value declarator: (type_identifier) @name) @local

(field_declaration type: (_) @type declarator: (field_identifier) @name) @field
(enumerator name: (identifier) @name) @local
(parameter_declaration type: (_) @type declarator: (identifier) @name) @param
(parameter_declaration type: (_) @type declarator: (pointer_declarator
  declarator: (identifier) @name)) @param
(declaration type: (_) @type declarator: (identifier) @name) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (identifier) @name
  value: (_) @value)) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (pointer_declarator
  declarator: (identifier) @name) value: (_) @value)) @local
(preproc_def name: (identifier) @name) @local
(preproc_function_def name: (identifier) @name) @local

(return_statement (_) @value) @return
