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
(field_declaration type: (_) @type
  declarator: (pointer_declarator declarator: (field_identifier) @name)) @field
(field_declaration type: (_) @type
  declarator: (array_declarator declarator: (field_identifier) @name)) @field
; An enumerator is a name of the scope around its enum (``RED``, not ``Color.RED``).
(enumerator name: (identifier) @name) @local @outer
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

; Block scopes: a declaration inside braces or a loop head is not seen outside them.
(compound_statement (compound_statement) @definition.block)
(for_statement) @definition.block
(if_statement consequence: (compound_statement) @definition.block)
(else_clause (compound_statement) @definition.block)
(while_statement body: (compound_statement) @definition.block)
(do_statement body: (compound_statement) @definition.block)
