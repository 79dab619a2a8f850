; Imports of Go: the path, and the local name when one is given ("." and "_" included).

(import_spec name: (_)? @alias path: (_) @source) @import
