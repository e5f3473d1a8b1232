# @summary A host path bound into container jobs. HTCondor reads the bind
# list as one ClassAd string of comma-separated paths, so no commas, quotes
# or spaces.
type Unchained_htcondor::Bind_path = Pattern[/\A\/[A-Za-z0-9._\/-]*\z/]
