# A value written into HTCondor's configuration inside a ClassAd string:
# letters, digits and `_.:@+=,-` only (no quote, backslash, space, `$` or `#`).
type Unchained_htcondor::Word = Pattern[/\A[A-Za-z0-9_.:@+=,-]+\z/]
