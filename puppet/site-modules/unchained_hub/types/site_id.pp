# The id of a site of the pool, as its workers advertise it (`UnchainedSite`,
# Unchained_htcondor::Site), in `UnchainedSpawner.sites`.
type Unchained_hub::Site_id = Pattern[/\A[a-z][a-z0-9-]{0,31}\z/]
