# @summary The build host and stratum 0 of the notebook environment's CVMFS repository.
class role::cvmfs_publisher {
  include profile::base
  include profile::cvmfs::publisher
}
