; use declarations and out-of-line modules (``mod x;``) of Rust.

(use_declaration argument: (_) @source) @import
(mod_item name: (identifier) @source !body) @import
