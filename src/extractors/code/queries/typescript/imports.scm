; inherits: javascript

; ``import C = require("./a")``: the module's ``export =`` value, else its names.
(import_statement (import_require_clause (identifier) @namespace source: (string) @source)) @import
(import_statement (import_require_clause (identifier) @default source: (string) @source)) @import
