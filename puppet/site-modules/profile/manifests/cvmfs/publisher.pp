# @summary The stratum 0 of the notebook repository, where `cvmfs/publish`
# builds and publishes environment versions.
#
# Creates the repository once (`cvmfs_server mkfs`), keeps it mounted, and
# installs what the build needs (Python venv, PyYAML, git). `cvmfs/publish`
# runs from a checkout of this project on this host.
#
# @param repository
#   The repository's name, like `notebooks.example.org`.
# @param owner
#   The account that owns the repository (`cvmfs_server mkfs -o`).
# @param cvmfs_server
#   The `cvmfs_server` command. The lab sets it to the clearly named test
#   double in tests/doubles, because no registry here has CVMFS.
# @param install
#   Install the `cvmfs-server` and `cvmfs` packages (off only in the lab).
class profile::cvmfs::publisher (
  Pattern[/\A[a-z0-9][a-z0-9.-]{1,62}\z/] $repository,
  Pattern[/\A[a-z_][a-z0-9_-]*\z/] $owner = 'root',
  Stdlib::Absolutepath $cvmfs_server = '/usr/bin/cvmfs_server',
  Boolean $install = true,
) {
  if $install {
    package { ['cvmfs', 'cvmfs-server']:
      ensure => installed,
      before => Exec["cvmfs_server mkfs ${repository}"],
    }
  }
  # (python3-venv comes with profile::base's profile::pip.)
  package { ['python3-yaml', 'git']:
    ensure => installed,
  }
  exec { "cvmfs_server mkfs ${repository}":
    command => [$cvmfs_server, 'mkfs', '-o', $owner, $repository],
    creates => "/etc/cvmfs/repositories.d/${repository}",
  }
  # The repository's own mount on the stratum 0 (after a reboot).
  exec { "cvmfs_server mount ${repository}":
    command => [$cvmfs_server, 'mount', $repository],
    unless  => "/usr/bin/mountpoint -q /cvmfs/${repository}",
    require => Exec["cvmfs_server mkfs ${repository}"],
  }
}
