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

; An object literal a function returns or yields is an anonymous namespace of its keys (no
; entity): ``f().x`` finds the ``x`` of ``return { x: 1 }``.
(return_statement (object) @definition.object)
(yield_expression (object) @definition.object)
(arrow_function body: (parenthesized_expression (object) @definition.object))
(return_statement (object (pair key: (property_identifier) @name value: (_) @value) @field))
(yield_expression (object (pair key: (property_identifier) @name value: (_) @value) @field))
(arrow_function body: (parenthesized_expression
  (object (pair key: (property_identifier) @name value: (_) @value) @field)))

; ``export { a }`` / ``export { a as b }`` without ``from``: the module's exported name (seen
; from importers) for its own declaration.
(export_statement !source
  (export_clause (export_specifier name: (_) @name @value !alias))) @export
(export_statement !source
  (export_clause (export_specifier name: (_) @value alias: (_) @name))) @export

; Object literals in an array literal: ``xs[0].v`` finds the ``v`` of ``[{ v: 1 }]``.
(array (object) @definition.object)
(array (object (pair key: (property_identifier) @name value: (_) @value) @field))

; ``export default { f: 1 }``: the default export is an anonymous namespace of its keys.
(export_statement "default" value: (object) @definition.object)
(export_statement "default"
  value: (object (pair key: (property_identifier) @name value: (_) @value) @field))
