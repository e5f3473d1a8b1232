# @summary A Slurm compute node where drones run: startds in Slurm jobs that
# join the pool through its CCB and run notebook jobs in the site's job
# image, with the notebook environment from CVMFS.
class role::slurm_compute {
  include profile::base
  include profile::slurm::compute
  include profile::apptainer
  include profile::lmod
  include profile::cvmfs::client
  include profile::drone

  # The startd checks the container runtime when it starts.
  Class['profile::apptainer'] -> Class['profile::drone']
}
