; Definitions of C++: C's plus classes, namespaces, methods (in class or ``Type::name``),
; constructors and fields.
; inherits nothing: C's patterns are written out where C++ names differ.

(function_definition
  declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (qualified_identifier) (destructor_name)
                 (operator_name)] @name
    parameters: (_) @params)
  body: (_) @body) @definition.function
(function_definition
  declarator: (_ (function_declarator
    declarator: [(identifier) (field_identifier) (qualified_identifier)] @name
    parameters: (_) @params))
  body: (_) @body) @definition.function
; A prototype at file or namespace level declares what another file (or a later line) defines.
(translation_unit (declaration
  declarator: [(function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params)
               (_ (function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params))])
  @definition.function)
(preproc_ifdef (declaration
  declarator: [(function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params)
               (_ (function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params))])
  @definition.function)
(preproc_if (declaration
  declarator: [(function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params)
               (_ (function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params))])
  @definition.function)
(preproc_else (declaration
  declarator: [(function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params)
               (_ (function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params))])
  @definition.function)
(declaration_list (declaration
  declarator: [(function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params)
               (_ (function_declarator declarator: [(identifier) (qualified_identifier)] @name parameters: (_) @params))])
  @definition.function)
(field_declaration
  declarator: (function_declarator
    declarator: [(field_identifier) (identifier)] @name parameters: (_) @params)) @definition.method

(class_specifier name: (_) @name body: (_) @body) @definition.class
(struct_specifier name: (_) @name body: (_) @body) @definition.struct
(union_specifier name: (_) @name body: (_) @body) @definition.union
(enum_specifier name: (_) @name body: (_) @body) @definition.enum
(namespace_definition name: (_) @name body: (_) @body) @definition.namespace

(class_specifier (base_class_clause (_) @base)) @heritage
(struct_specifier (base_class_clause (_) @base)) @heritage

(field_declaration type: (_) @type declarator: (field_identifier) @name) @field
(field_declaration type: (_) @type
  declarator: (pointer_declarator declarator: (field_identifier) @name)) @field
(field_declaration type: (_) @type
  declarator: (array_declarator declarator: (field_identifier) @name)) @field
(field_declaration type: (_) @type
  declarator: (reference_declarator (field_identifier) @name)) @field
; A plain enum's enumerators are names of the scope around it; an ``enum class``'s its own.
((enum_specifier body: (enumerator_list (enumerator name: (identifier) @name))) @local @outer
  (#not-match? @local "^enum\\s+(class|struct)"))
((enum_specifier body: (enumerator_list (enumerator name: (identifier) @name))) @local
  (#match? @local "^enum\\s+(class|struct)"))
(parameter_declaration type: (_) @type declarator: (identifier) @name) @param
(parameter_declaration type: (_) @type declarator: (_ (identifier) @name)) @param
(declaration type: (_) @type declarator: (identifier) @name) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (identifier) @name)) @local
(declaration type: (_) @type declarator: (init_declarator declarator: (_ (identifier) @name)))
  @local
; ``using geo::Circle;`` makes ``Circle`` a name for ``geo::Circle`` here.
((using_declaration (qualified_identifier name: (_) @name) @value) @local
  (#not-match? @local "^using\\s+namespace"))
(alias_declaration name: (_) @name type: (_) @value) @local
(type_definition type: (_) @value declarator: (type_identifier) @name) @local
(for_range_loop declarator: (identifier) @name) @local

(return_statement (_) @value) @return

; Block scopes: a declaration inside braces or a loop head is not seen outside them.
(compound_statement (compound_statement) @definition.block)
(for_statement) @definition.block
(if_statement consequence: (compound_statement) @definition.block)
(else_clause (compound_statement) @definition.block)
(while_statement body: (compound_statement) @definition.block)
(do_statement body: (compound_statement) @definition.block)
(for_range_loop) @definition.block
