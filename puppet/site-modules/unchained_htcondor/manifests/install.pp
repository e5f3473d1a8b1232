# @summary Installs HTCondor from the distribution or from HTCondor's repository.
# @api private
class unchained_htcondor::install {
  assert_private()

  if $unchained_htcondor::package_source == 'upstream' {
    # Not exercised by this project's tests: the lab uses Debian's package.
    case $facts['os']['family'] {
      'Debian': {
        file { '/etc/apt/keyrings/htcondor.asc':
          ensure => file,
          source => $unchained_htcondor::upstream_key,
          mode   => '0644',
        }
        -> file { '/etc/apt/sources.list.d/htcondor.sources':
          ensure  => file,
          mode    => '0644',
          content => epp('unchained_htcondor/htcondor.sources.epp', {
              'url'      => $unchained_htcondor::upstream_repository,
              'codename' => $facts['os']['distro']['codename'],
          }),
        }
        ~> exec { 'htcondor-apt-update':
          command     => ['/usr/bin/apt-get', 'update'],
          refreshonly => true,
          before      => Package['htcondor'],
        }
      }
      'RedHat': {
        yumrepo { 'htcondor':
          descr    => 'HTCondor',
          baseurl  => $unchained_htcondor::upstream_repository,
          gpgkey   => $unchained_htcondor::upstream_key,
          gpgcheck => '1',
          enabled  => '1',
          before   => Package['htcondor'],
        }
      }
      default: {
        fail("unchained_htcondor::package_source 'upstream' is not supported on ${facts['os']['family']}")
      }
    }
    $package = $unchained_htcondor::upstream_package
  } else {
    $package = $unchained_htcondor::distribution_package
  }

  # Debian's package starts HTCondor the moment it is installed, with its
  # default configuration, and stopping a startd that is still starting up
  # takes 15 s or more. This drop-in holds the start back until Puppet has
  # written the pool's configuration; the service class then starts it once.
  file { '/etc/systemd/system/condor.service.d':
    ensure => directory,
    mode   => '0755',
  }
  -> file { '/etc/systemd/system/condor.service.d/10-wait-for-puppet.conf':
    ensure  => file,
    mode    => '0644',
    content => @(CONF),
      # Managed by Puppet (unchained_htcondor): start only once the pool is configured.
      [Unit]
      ConditionPathExists=/etc/condor/config.d/10-pool.conf
      | CONF
  }
  ~> exec { 'htcondor-systemd-reload':
    command     => ['/usr/bin/systemctl', 'daemon-reload'],
    refreshonly => true,
  }
  -> package { 'htcondor':
    ensure => installed,
    name   => $package,
  }

  $extra = $unchained_htcondor::roles.map |$role| { $unchained_htcondor::role_packages.get($role, []) }.flatten.unique
  package { $extra:
    ensure => installed,
    before => Package['htcondor'],
  }
}
