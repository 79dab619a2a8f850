; Imports of Kotlin: a name (optionally aliased) or a whole package (``.*``).

(import_header (identifier) @source (wildcard_import) @wildcard) @import
(import_header (identifier) @source (import_alias (type_identifier) @alias)) @import
(import_header (identifier) @source) @import
