# @summary Lmod (Debian's package), with the site's module trees on every login's MODULEPATH.
#
# @param modulepaths
#   Directories of modulefiles, searched before Lmod's own: the notebook
#   repository's `/cvmfs/REPO/modulefiles`, so that `module load jupyter` works.
class profile::lmod (
  Array[Stdlib::Absolutepath] $modulepaths = [],
) {
  package { 'lmod':
    ensure => installed,
  }
  # Lmod's init adds each line of this file to MODULEPATH in login shells.
  file { '/etc/lmod/modulespath':
    ensure  => file,
    mode    => '0644',
    content => join(['# Managed by Puppet (profile::lmod).', $modulepaths, '/etc/lmod/modules',
        '/usr/share/lmod/lmod/modulefiles/', ''].flatten, "\n"),
    require => Package['lmod'],
  }
}
