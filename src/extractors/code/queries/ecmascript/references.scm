; Uses JavaScript and TypeScript share; both languages' references.scm inherit this file.

; ``o["key"]`` uses the member ``key``.
(subscript_expression index: (string) @member)
