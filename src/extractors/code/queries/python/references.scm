; Uses of names in Python. Every identifier is a candidate; the extractor drops definition
; sites and the parts captured as @skip, and turns attribute members into dotted references.

(identifier) @name

(attribute attribute: (identifier) @member) @chain

(call function: (_) @callee)

(class_definition superclasses: (argument_list [(identifier) (attribute)] @base))

; Identifiers that are not uses: keywords of calls and class patterns, import paths
; (imports.scm yields those), and parts of case patterns.
(keyword_argument name: (identifier) @skip)
(keyword_pattern . (identifier) @skip)
(dotted_name (identifier) @skip)
(aliased_import alias: (identifier) @skip)
