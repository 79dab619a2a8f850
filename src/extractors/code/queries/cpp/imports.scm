; inherits: c
; ``using namespace geo;``: the namespace's names are seen here.
(using_declaration "namespace" [(identifier) (qualified_identifier)] @source @namespace) @import
