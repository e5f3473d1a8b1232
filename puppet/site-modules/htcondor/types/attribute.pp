# A ClassAd attribute name, as HTCondor's configuration and the job ads spell it.
type Htcondor::Attribute = Pattern[/\A[A-Za-z_][A-Za-z0-9_]*\z/]
