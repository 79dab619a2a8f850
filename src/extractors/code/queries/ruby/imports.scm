; require and require_relative of Ruby (a whole file's top-level names).

(call
  method: (identifier) @name
  arguments: (argument_list . (string (string_content) @source) .)
  (#match? @name "^require(_relative)?$")) @import
