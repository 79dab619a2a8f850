; Import statements of Python: one match per imported name.

(import_statement
  name: [
    (dotted_name) @module
    (aliased_import name: (dotted_name) @module alias: (identifier) @alias)
  ]) @import

(import_from_statement
  module_name: [(dotted_name) (relative_import)] @from
  name: [
    (dotted_name) @name
    (aliased_import name: (dotted_name) @name alias: (identifier) @alias)
  ]) @from_import

(import_from_statement
  module_name: [(dotted_name) (relative_import)] @from
  (wildcard_import)) @wildcard
