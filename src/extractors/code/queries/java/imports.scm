; Imports of Java: single types, static members and on-demand (``*``) imports.

(import_declaration (scoped_identifier) @source (asterisk) @wildcard) @import
(import_declaration (scoped_identifier) @source . ) @import
(import_declaration (identifier) @source . ) @import
