# @summary An execute host (startd) that needs no inbound connection:
# it reaches the pool only through the central manager's CCB.
#
# Until the notebook environment is published on CVMFS, notebook jobs run
# the single-user server from a venv on the host.
class role::execute {
  include profile::base
  include profile::htcondor
  include profile::singleuser_venv
}
