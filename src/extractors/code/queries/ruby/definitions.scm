; Definitions of Ruby: modules, classes (reopened anywhere), methods, assignments.

(module name: (_) @name body: (_)? @body) @definition.module
(class name: (_) @name superclass: (superclass (_) @base)? body: (_)? @body) @definition.class
(singleton_class value: (_) @receiver body: (_)? @body) @definition.impl

(method name: (_) @name parameters: (method_parameters)? @params body: (_)? @body)
  @definition.method
(singleton_method name: (_) @name parameters: (method_parameters)? @params body: (_)? @body)
  @definition.method

[(block) (do_block) (lambda)] @definition.lambda

(method_parameters (identifier) @name) @param
(method_parameters (optional_parameter name: (identifier) @name)) @param
(method_parameters (keyword_parameter name: (identifier) @name)) @param
(block_parameters (identifier) @name) @param
(lambda_parameters (identifier) @name) @param
(assignment left: (identifier) @name right: (_) @value) @local
(assignment left: (constant) @name right: (_) @value) @local
(assignment left: (instance_variable) @target right: (_) @value) @assign
(for pattern: (identifier) @name) @local

(method body: (body_statement (_) @value .)) @return
(method body: (body_statement (_) @value . (comment)+ .)) @return
(return (argument_list (_) @value)) @return
