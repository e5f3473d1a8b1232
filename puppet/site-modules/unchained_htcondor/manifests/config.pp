# @summary Writes HTCondor's configuration, signing key and tokens.
# @api private
class unchained_htcondor::config {
  assert_private()

  file { '/etc/condor/config.d':
    ensure  => directory,
    owner   => 'root',
    group   => 'root',
    mode    => '0755',
    recurse => true,
    purge   => true,
    force   => true,
    # Removing an unmanaged file is a configuration change too.
    notify  => Exec['htcondor-reload'],
  }

  file { ['/etc/condor/passwords.d', '/etc/condor/tokens.d']:
    ensure  => directory,
    owner   => 'root',
    group   => 'root',
    mode    => '0700',
    recurse => true,
    purge   => true,
    force   => true,
    notify  => Exec['htcondor-reload'],
  }

  file { '/etc/condor/passwords.d/POOL':
    ensure    => file,
    owner     => 'root',
    group     => 'root',
    mode      => '0600',
    content   => $unchained_htcondor::pool_signing_key,
    show_diff => false,
    notify    => Exec['htcondor-reload'],
  }

  $unchained_htcondor::tokens.unwrap.each |$name, $token| {
    file { "/etc/condor/tokens.d/${name}":
      ensure    => file,
      owner     => 'root',
      group     => 'root',
      mode      => '0600',
      content   => Sensitive("${token}\n"),
      show_diff => false,
      notify    => Exec['htcondor-reload'],
    }
  }

  # Kerberos matters where users submit.
  $user_kerberos = $unchained_htcondor::user_kerberos and 'submit' in $unchained_htcondor::roles
  file { '/etc/condor/condor.keytab':
    ensure    => if $user_kerberos { 'file' } else { 'absent' },
    owner     => 'root',
    group     => 'root',
    mode      => '0600',
    content   => if $user_kerberos { Sensitive(Binary($unchained_htcondor::kerberos_keytab.unwrap)) } else { undef },
    show_diff => false,
    notify    => Exec['htcondor-reload'],
  }
  file { '/etc/condor/kerberos.map':
    ensure  => if $user_kerberos { 'file' } else { 'absent' },
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => if $user_kerberos {
      $realm = regsubst($unchained_htcondor::kerberos_realm, '\.', '\\.', 'G')
      "# Managed by Puppet (unchained_htcondor).\nKERBEROS ^([^@/]+)@${realm}\$ \\1@${unchained_htcondor::uid_domain}\n"
    } else { undef },
    notify  => Exec['htcondor-reload'],
  }

  unchained_htcondor::config_file {
    '10-pool':
      content => epp('unchained_htcondor/pool.conf.epp', {
          'central_manager' => $unchained_htcondor::central_manager,
          'shared_port'     => $unchained_htcondor::shared_port,
          'uid_domain'      => $unchained_htcondor::uid_domain,
      });
    '20-security':
      content => epp('unchained_htcondor/security.conf.epp', {
          'trust_domain'   => $unchained_htcondor::trust_domain,
          'user_kerberos'  => $user_kerberos,
          'kerberos_realm' => $unchained_htcondor::kerberos_realm,
          'uid_domain'     => $unchained_htcondor::uid_domain,
      });
    '30-network':
      restart => true,
      content => epp('unchained_htcondor/network.conf.epp', {
          'shared_port'        => $unchained_htcondor::shared_port,
          'network_interface'  => $unchained_htcondor::network_interface,
          'ccb_reconnect_time' => $unchained_htcondor::ccb_reconnect_time,
      });
    '40-intervals':
      content => epp('unchained_htcondor/intervals.conf.epp', {
          'negotiator_interval'             => $unchained_htcondor::negotiator_interval,
          'negotiator_min_interval'         => $unchained_htcondor::negotiator_min_interval,
          'negotiator_cycle_delay'          => $unchained_htcondor::negotiator_cycle_delay,
          'schedd_interval'                 => $unchained_htcondor::schedd_interval,
          'schedd_min_interval'             => $unchained_htcondor::schedd_min_interval,
          'update_interval'                 => $unchained_htcondor::update_interval,
          'starter_update_interval'         => $unchained_htcondor::starter_update_interval,
          'starter_initial_update_interval' => $unchained_htcondor::starter_initial_update_interval,
          'periodic_expr_interval'          => $unchained_htcondor::periodic_expr_interval,
      });
  }

  unless $unchained_htcondor::debug.empty {
    unchained_htcondor::config_file { '60-debug':
      content => $unchained_htcondor::debug.map |$daemon, $levels| { "${daemon}_DEBUG = ${levels}\n" }.join,
    }
  }

  unless $unchained_htcondor::knobs.empty {
    unchained_htcondor::config_file { '90-site':
      content => $unchained_htcondor::knobs.map |$name, $value| { "${name} = ${value}\n" }.join,
    }
  }

  if 'central_manager' in $unchained_htcondor::roles {
    unchained_htcondor::config_file { '50-central-manager':
      content => epp('unchained_htcondor/central_manager.conf.epp', {
          'drone_identities' => $unchained_htcondor::drone_sites.map |$site| {
            [$site, "drone-${site}@${unchained_htcondor::uid_domain}"]
          }.convert_to(Hash),
      }),
    }
  }
  if 'submit' in $unchained_htcondor::roles {
    unchained_htcondor::config_file { '50-submit':
      content => epp('unchained_htcondor/submit.conf.epp'),
    }
  }

  # A user's condor_ssh_to_job to a worker behind CCB waits for the worker to
  # connect back. With a socket in this directory it is reached through the
  # shared port; without one it listens on a random port, which a worker
  # that may reach only the shared port (a drone at another site) cannot.
  # Sticky and world-writable like /tmp; each tool's socket is its own.
  $tool_sockets = 'submit' in $unchained_htcondor::roles
  file { '/etc/tmpfiles.d/unchained-htcondor-tools.conf':
    ensure  => if $tool_sockets { 'file' } else { 'absent' },
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (unchained_htcondor).\nd /var/lock/condor/daemon_sock 1777 condor condor -\n",
  }
  if $tool_sockets {
    exec { 'htcondor-tool-sockets':
      command     => ['/usr/bin/systemd-tmpfiles', '--create', '/etc/tmpfiles.d/unchained-htcondor-tools.conf'],
      refreshonly => true,
      subscribe   => File['/etc/tmpfiles.d/unchained-htcondor-tools.conf'],
    }
  }
  if 'execute' in $unchained_htcondor::roles {
    unchained_htcondor::config_file { '50-execute':
      content => epp('unchained_htcondor/execute.conf.epp', {
          'num_cpus'          => $unchained_htcondor::num_cpus,
          'container_runtime' => $unchained_htcondor::container_runtime,
          'container_binds'   => $unchained_htcondor::container_binds,
          'site'              => $unchained_htcondor::site,
      }),
    }
  }
}
