; How values flow in JavaScript and TypeScript alike; both languages' definitions.scm inherit
; this file (it is no language of its own).

; A generator's ``yield`` hands a value to its caller as ``return`` does; an arrow function's
; expression body is what it returns.
(yield_expression (_) @value) @return
(arrow_function body: (_) @value) @return

(for_in_statement left: (identifier) @name operator: "in") @local
; ``for (const x of xs)``: x is an element of xs (a typed array's element type, a pattern's
; parts of it).
(for_in_statement left: (_) @name operator: "of" right: (_) @value) @local

; Every object literal is a namespace of its keys: named by the declaration or the key it is
; bound to (``obj.x``), else anonymous and written by its position (``<object3_4>``: no
; entity), so ``f().x`` finds the ``x`` of ``return { x: 1 }`` and ``g({ x: 1 })`` passes it.
; Its methods are its members; a shorthand key ``{ x }`` is also a use of ``x``.
(object) @definition.object
(pair key: (property_identifier) @name value: (object) @body) @definition.object
(object (pair key: (property_identifier) @name value: (_) @value) @field)
(object (pair key: (string (string_fragment) @name) value: (_) @value) @field)
(object (shorthand_property_identifier) @name @value @field)

; ``export { a }`` / ``export { a as b }`` without ``from``: the module's exported name (seen
; from importers) for its own declaration.
(export_statement !source
  (export_clause (export_specifier name: (_) @name @value !alias))) @export
(export_statement !source
  (export_clause (export_specifier name: (_) @value alias: (_) @name))) @export

; Functions (not arrow functions) bind ``arguments`` to what their call passes.
[(function_declaration) (generator_function_declaration) (function_expression)
 (generator_function) (method_definition)] @arguments

; A declaration that is the bare body of a statement (``while (x) function f() {}``) is a
; block of its own: nothing outside the statement sees it.
[(while_statement body: [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])
 (do_statement body: [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])
 (with_statement body: [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])
 (if_statement consequence: [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])
 (else_clause [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])
 (labeled_statement body: [(function_declaration) (generator_function_declaration)
   (class_declaration) (lexical_declaration)])] @definition.block

; ``with (o) { x }``: a name read in the block is ``o.x`` where ``o`` has a member ``x``.
(with_statement object: (parenthesized_expression (_) @value) body: (statement_block) @body) @with
