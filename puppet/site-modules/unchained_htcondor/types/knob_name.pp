# An HTCondor configuration variable, optionally for one subsystem (`SCHEDD.MAX_JOBS_RUNNING`).
type Unchained_htcondor::Knob_name = Pattern[/\A([A-Z][A-Z0-9_]*\.)?[A-Za-z][A-Za-z0-9_]*\z/]
