; Imports of JavaScript (ES modules, re-exports and CommonJS require): one match per name.

(import_statement
  (import_clause (named_imports (import_specifier name: _ @name alias: _? @alias)))
  source: (string) @source) @import

(import_statement
  (import_clause (identifier) @default)
  source: (string) @source) @import

(import_statement
  (import_clause (namespace_import (identifier) @namespace))
  source: (string) @source) @import

(import_statement . source: (string) @source .) @import

(export_statement
  (export_clause (export_specifier name: _ @name alias: _? @alias))
  source: (string) @source) @import

(export_statement "*" @wildcard source: (string) @source) @import

; ``require`` gives the module's ``module.exports``: what it assigned there, else its names.
(variable_declarator
  name: (identifier) @namespace
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string) @source .))
  (#eq? @_require "require")) @import
(variable_declarator
  name: (identifier) @default
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string) @source .))
  (#eq? @_require "require")) @import

(variable_declarator
  name: (object_pattern (shorthand_property_identifier_pattern) @name)
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string) @source .))
  (#eq? @_require "require")) @import

; ``await import("./m.js")``: the module's namespace, as ``require`` gives it.
(variable_declarator
  name: (identifier) @namespace
  value: (await_expression
    (call_expression
      function: (import)
      arguments: (arguments . (string) @source .)))) @import

(variable_declarator
  name: (object_pattern (shorthand_property_identifier_pattern) @name)
  value: (await_expression
    (call_expression
      function: (import)
      arguments: (arguments . (string) @source .)))) @import

; ``export * as ns from "./m"``: the module's ``ns`` is m's namespace.
(export_statement (namespace_export (identifier) @namespace) source: (string) @source) @import
