# The name of a site of the pool (`UnchainedSite` in its slot ads), which
# notebook environments and presets name where they may run.
type Unchained_htcondor::Site = Pattern[/\A[a-z][a-z0-9-]{0,31}\z/]
