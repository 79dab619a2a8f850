; #include of C and C++: a quoted path relative to the file, or a system header.

(preproc_include path: (_) @source) @import
