# @summary HTCondor for this host's part of the pool; everything from Hiera
# (`unchained_htcondor::*`, roles set per role in data/role/).
class profile::htcondor {
  include unchained_htcondor
}
