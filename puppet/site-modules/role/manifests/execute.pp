# @summary An execute host (startd) that needs no inbound connection:
# it reaches the pool only through the central manager's CCB.
#
# Notebook jobs run in the site's job image with Apptainer (when the hub's
# environment names one) and load the notebook environment from CVMFS with
# Lmod. The venv of profile::singleuser_venv is the lab's second, local
# environment.
class role::execute {
  include profile::base
  include profile::apptainer
  include profile::htcondor
  include profile::lmod
  include profile::cvmfs::client
  include profile::singleuser_venv

  # The startd checks the container runtime when it starts.
  Class['profile::apptainer'] -> Class['profile::htcondor']
}
