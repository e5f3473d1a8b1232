# @summary HTCondor's package on a host that runs none of the pool's daemons
# but uses HTCondor's programs (a drone site's nodes, the overlay manager):
# the system-wide HTCondor the package starts is stopped and disabled.
#
# @param package
#   HTCondor's package.
class unchained_htcondor::programs_only (
  String[1] $package = lookup('unchained_htcondor::distribution_package'),
) {
  package { $package:
    ensure => installed,
  }
  service { 'condor':
    ensure  => stopped,
    enable  => false,
    require => Package[$package],
  }
}
