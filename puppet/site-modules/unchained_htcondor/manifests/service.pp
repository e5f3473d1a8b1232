# @summary Runs HTCondor and reloads it when its configuration changes.
# @api private
class unchained_htcondor::service {
  assert_private()

  # SIGHUP to a running condor_master, which is what condor_reconfig asks
  # for, without an authenticated connection to the master. It runs before
  # the service resource so that it never signals a master still starting
  # up from a restart in the same run; a stopped HTCondor is left to the
  # service resource, which starts it with the new configuration.
  exec { 'htcondor-reload':
    command     => ['/usr/bin/systemctl', 'try-reload-or-restart', 'condor'],
    refreshonly => true,
    before      => Service['condor'],
  }

  service { 'condor':
    ensure => running,
    enable => true,
  }
}
