; Definitions of Rust: structs, enums, unions, traits, inline modules, functions, methods of
; impl blocks (under the implemented type), lets, parameters.

(struct_item name: (type_identifier) @name body: (_)? @body) @definition.struct
(enum_item name: (type_identifier) @name body: (_) @body) @definition.enum
(union_item name: (type_identifier) @name body: (_) @body) @definition.union
(trait_item name: (type_identifier) @name body: (_) @body) @definition.trait
(mod_item name: (identifier) @name body: (declaration_list) @body) @definition.module
(type_item name: (type_identifier) @name type: (_) @value) @local

(trait_item bounds: (trait_bounds (_) @base)) @heritage

(impl_item type: (_) @receiver body: (declaration_list) @body) @definition.impl

(function_item
  name: (identifier) @name
  parameters: (parameters) @params
  return_type: (_)? @returns
  body: (block) @body) @definition.function

(function_signature_item
  name: (identifier) @name
  parameters: (parameters) @params
  return_type: (_)? @returns) @definition.function

(closure_expression) @definition.lambda

(field_declaration name: (field_identifier) @name type: (_) @type) @field
(enum_variant name: (identifier) @name) @field
(parameter pattern: (_) @name type: (_) @type) @param
(closure_parameters (identifier) @name) @param
(let_declaration pattern: (_) @name type: (_)? @type value: (_)? @value) @local
; ``for c in items``: an element of ``items`` (a slice of T is written as a T).
(for_expression pattern: (_) @name value: (_) @value) @local
(const_item name: (identifier) @name type: (_) @type value: (_)? @value) @local
(static_item name: (identifier) @name type: (_) @type value: (_)? @value) @local

(return_expression (_) @value) @return
(function_item body: (block (_) @value .)) @return
(impl_item trait: (_) @base type: (_) @receiver) @heritage

; Block scopes: a ``let`` inside braces or a loop pattern is not seen outside them.
(block (expression_statement (block) @definition.block))
(block (block) @definition.block)
(for_expression) @definition.block
(if_expression consequence: (block) @definition.block)
(else_clause (block) @definition.block)
(while_expression body: (block) @definition.block)
(loop_expression body: (block) @definition.block)
