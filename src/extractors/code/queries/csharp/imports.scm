; using directives of C#: a namespace (all its types), or an alias of a type or namespace.

(using_directive (identifier) @alias . "=" (_) @source) @import
(using_directive name: (identifier) @alias (_) @source) @import
(using_directive [(identifier) (qualified_name)] @source) @import
