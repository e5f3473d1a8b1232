# A file name in tokens.d: no path separators, no leading dot.
type Unchained_htcondor::Token_name = Pattern[/\A[A-Za-z0-9_@][A-Za-z0-9_.@-]*\z/]
