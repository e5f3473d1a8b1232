# @summary An execute host (startd) that needs no inbound connection:
# it reaches the pool only through the central manager's CCB.
#
# Notebook jobs load the notebook environment from CVMFS with Lmod. The venv
# of profile::singleuser_venv is the lab's second, local environment.
class role::execute {
  include profile::base
  include profile::htcondor
  include profile::lmod
  include profile::cvmfs::client
  include profile::singleuser_venv
}
