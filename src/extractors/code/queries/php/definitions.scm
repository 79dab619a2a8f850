; Definitions of PHP: classes, interfaces, traits, enums, functions, methods, properties,
; parameters and assignments (a variable is declared by its first assignment).

(class_declaration name: (name) @name body: (_) @body) @definition.class
(interface_declaration name: (name) @name body: (_) @body) @definition.interface
(trait_declaration name: (name) @name body: (_) @body) @definition.trait
(enum_declaration name: (name) @name body: (_) @body) @definition.enum

(class_declaration (base_clause (_) @base)) @heritage
(class_declaration (class_interface_clause (_) @base)) @heritage
(interface_declaration (base_clause (_) @base)) @heritage

(function_definition name: (name) @name parameters: (_) @params return_type: (_)? @returns
  body: (_) @body) @definition.function
(method_declaration name: (name) @name parameters: (_) @params return_type: (_)? @returns
  body: (_)? @body) @definition.method
[(anonymous_function) (arrow_function)] @definition.lambda

(property_declaration type: (_)? @type (property_element name: (variable_name) @name
  (_)? @value)) @field
(simple_parameter type: (_)? @type name: (variable_name) @name) @param
(property_promotion_parameter type: (_)? @type name: (variable_name) @name) @field
(assignment_expression left: (variable_name) @name right: (_) @value) @local
(assignment_expression left: (member_access_expression) @target right: (_) @value) @assign
(foreach_statement (_) (pair (_) (variable_name) @name)) @local
(const_element (name) @name (_) @value) @local

(return_statement (_) @value) @return
(namespace_definition name: (namespace_name) @name) @package
