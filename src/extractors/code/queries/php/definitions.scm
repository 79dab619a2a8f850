; Definitions of PHP: classes, interfaces, traits, enums, functions, methods, properties,
; parameters and assignments (a variable is declared by its first assignment).

(class_declaration name: (name) @name body: (_) @body) @definition.class
(interface_declaration name: (name) @name body: (_) @body) @definition.interface
(trait_declaration name: (name) @name body: (_) @body) @definition.trait
(enum_declaration name: (name) @name body: (_) @body) @definition.enum

(class_declaration (base_clause (_) @base)) @heritage
(class_declaration (class_interface_clause (_) @base)) @heritage
(interface_declaration (base_clause (_) @base)) @heritage
; ``use HasName, Counts;`` in a class: the traits' members are the class's.
(class_declaration body: (declaration_list (use_declaration (_) @base))) @heritage
(trait_declaration body: (declaration_list (use_declaration (_) @base))) @heritage
(enum_declaration (class_interface_clause (_) @base)) @heritage

(function_definition name: (name) @name parameters: (_) @params return_type: (_)? @returns
  body: (_) @body) @definition.function
(method_declaration name: (name) @name parameters: (_) @params return_type: (_)? @returns
  body: (_)? @body) @definition.method
[(anonymous_function) (arrow_function)] @definition.lambda

; A property is written ``$this->name`` (no ``$``); a static one ``self::$count``.
((property_declaration type: (_)? @type (property_element name: (variable_name (name) @name)
  (_)? @value)) @field
  (#not-match? @field "(^|\\s)static\\s"))
((property_declaration type: (_)? @type (property_element name: (variable_name) @name
  (_)? @value)) @field
  (#match? @field "(^|\\s)static\\s"))
(simple_parameter type: (_)? @type name: (variable_name) @name) @param
(variadic_parameter type: (_)? @type name: (variable_name) @name) @param
; ``__construct(private float $radius)``: a parameter and a property of the class at once.
(property_promotion_parameter type: (_)? @type name: (variable_name) @name) @param
(property_promotion_parameter type: (_)? @type name: (variable_name (name) @name)) @field @promoted
(assignment_expression left: (variable_name) @name right: (_) @value) @local
(foreach_statement (_) @value . (variable_name) @name) @local
(foreach_statement (_) (pair (_) (variable_name) @name)) @local
(const_element (name) @name (_) @value) @local
; An enum case is an instance of its enum (``Status::Active->label()``).
(enum_declaration name: (name) @type body: (enum_declaration_list (enum_case name: (name) @name)))
  @field

(return_statement (_) @value) @return
(namespace_definition name: (namespace_name) @name) @package
