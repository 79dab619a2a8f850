; use declarations and out-of-line modules (``mod x;``) of Rust.

(use_declaration argument: (_) @source) @import
; Each name of a use list is its own import, so that its use sits on it.
(use_declaration argument: [(use_list [(identifier) (scoped_identifier) (self) (use_wildcard)] @name)
  (scoped_use_list list: (use_list [(identifier) (scoped_identifier) (self) (use_wildcard)] @name))
  (scoped_use_list list: (use_list (scoped_use_list
    list: (use_list [(identifier) (scoped_identifier) (self) (use_wildcard)] @name))))] @source)
  @import
(use_declaration argument: [(use_as_clause path: (_) @name alias: (_) @alias)
  (use_list (use_as_clause path: (_) @name alias: (_) @alias))
  (scoped_use_list list: (use_list (use_as_clause path: (_) @name alias: (_) @alias)))
  (scoped_use_list list: (use_list (scoped_use_list
    list: (use_list (use_as_clause path: (_) @name alias: (_) @alias)))))] @source)
  @import
(mod_item name: (identifier) @source !body) @import
