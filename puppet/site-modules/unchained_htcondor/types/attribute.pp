# A ClassAd attribute name, as HTCondor's configuration and the job ads spell it.
type Unchained_htcondor::Attribute = Pattern[/\A[A-Za-z_][A-Za-z0-9_]*\z/]
