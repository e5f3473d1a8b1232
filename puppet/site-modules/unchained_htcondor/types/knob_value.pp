# A value for one line of HTCondor's configuration: no line break, no trailing
# backslash (a continuation) and no `@=` (a multi-line value).
type Unchained_htcondor::Knob_value = Variant[Integer, Boolean, Pattern[/\A(?!@=)[^\n\r]*(?<!\\)\z/]]
