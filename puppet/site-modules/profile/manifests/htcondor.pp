# @summary HTCondor for this host's part of the pool; everything from Hiera
# (`htcondor::*`, roles set per role in data/role/).
class profile::htcondor {
  include htcondor
}
