; use declarations of PHP (classes, functions, constants; aliases).

(namespace_use_clause . [(qualified_name) (name)] @source alias: (name)? @alias) @import
