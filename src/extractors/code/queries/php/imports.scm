; use declarations of PHP (classes, functions, constants; aliases).

(namespace_use_declaration
  (namespace_use_clause . [(qualified_name) (name)] @source alias: (name)? @alias) @import)
; ``use App\Models\{User, Status as S}``: each name of the group under its prefix.
(namespace_use_declaration (namespace_name) @source
  (namespace_use_group (namespace_use_clause . (name) @name alias: (name)? @alias) @import))
