; Definitions, scopes and control flow of Python.
; The primary capture of each pattern names what it is (class, function, lambda, assign, ...);
; the Python side reads the other captures of the same match.

; Only what the Python side reads is captured: every capture costs a node object.
(class_definition
  name: (identifier) @name
  body: (block) @body) @class

(function_definition
  name: (identifier) @name
  parameters: (parameters) @params
  body: (block)) @function

(lambda
  body: (_)) @lambda

(assignment
  left: (_) @target
  type: (_)? @type
  right: (_)? @value) @assign

(for_statement left: (_) @target) @bind
(for_in_clause left: (_) @target) @bind

(as_pattern
  (_) @value
  alias: (as_pattern_target (_) @target)) @assign

(named_expression
  name: (identifier) @target
  value: (_) @value) @assign

(case_clause (case_pattern) @pattern) @case

(return_statement (_) @value) @return

(global_statement (identifier) @name) @global
(nonlocal_statement (identifier) @name) @nonlocal

; Blocks that may not run (a name bound inside does not shadow one bound before) and loops
; (a name bound late in the body is visible at its top).
(if_statement consequence: (block) @branch)
(elif_clause consequence: (block) @branch)
(else_clause body: (block) @branch)
(case_clause) @branch
(try_statement body: (block) @branch)
(except_clause) @branch
(for_statement) @loop
(while_statement) @loop

; Decision points, counted per function as a rough cyclomatic complexity.
[
  (if_statement) (elif_clause) (for_statement) (while_statement) (except_clause)
  (boolean_operator) (conditional_expression) (case_clause) (for_in_clause) (if_clause)
] @decision
