# @summary Writes HTCondor's configuration, signing key and tokens.
# @api private
class htcondor::config {
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
    content   => $htcondor::pool_signing_key,
    show_diff => false,
    notify    => Exec['htcondor-reload'],
  }

  $htcondor::tokens.unwrap.each |$name, $token| {
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
  $user_kerberos = $htcondor::user_kerberos and 'submit' in $htcondor::roles
  file { '/etc/condor/condor.keytab':
    ensure    => if $user_kerberos { 'file' } else { 'absent' },
    owner     => 'root',
    group     => 'root',
    mode      => '0600',
    content   => if $user_kerberos { Sensitive(Binary($htcondor::kerberos_keytab.unwrap)) } else { undef },
    show_diff => false,
    notify    => Exec['htcondor-reload'],
  }
  file { '/etc/condor/kerberos.map':
    ensure  => if $user_kerberos { 'file' } else { 'absent' },
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => if $user_kerberos {
      $realm = regsubst($htcondor::kerberos_realm, '\.', '\\.', 'G')
      "# Managed by Puppet (htcondor).\nKERBEROS ^([^@/]+)@${realm}\$ \\1@${htcondor::uid_domain}\n"
    } else { undef },
    notify  => Exec['htcondor-reload'],
  }

  htcondor::config_file {
    '10-pool':
      content => epp('htcondor/pool.conf.epp', {
          'central_manager' => $htcondor::central_manager,
          'shared_port'     => $htcondor::shared_port,
          'uid_domain'      => $htcondor::uid_domain,
      });
    '20-security':
      content => epp('htcondor/security.conf.epp', {
          'trust_domain'   => $htcondor::trust_domain,
          'user_kerberos'  => $user_kerberos,
          'kerberos_realm' => $htcondor::kerberos_realm,
          'uid_domain'     => $htcondor::uid_domain,
      });
    '30-network':
      restart => true,
      content => epp('htcondor/network.conf.epp', {
          'shared_port'        => $htcondor::shared_port,
          'network_interface'  => $htcondor::network_interface,
          'ccb_reconnect_time' => $htcondor::ccb_reconnect_time,
      });
    '40-intervals':
      content => epp('htcondor/intervals.conf.epp', {
          'negotiator_interval'             => $htcondor::negotiator_interval,
          'negotiator_min_interval'         => $htcondor::negotiator_min_interval,
          'negotiator_cycle_delay'          => $htcondor::negotiator_cycle_delay,
          'schedd_interval'                 => $htcondor::schedd_interval,
          'schedd_min_interval'             => $htcondor::schedd_min_interval,
          'update_interval'                 => $htcondor::update_interval,
          'starter_update_interval'         => $htcondor::starter_update_interval,
          'starter_initial_update_interval' => $htcondor::starter_initial_update_interval,
          'periodic_expr_interval'          => $htcondor::periodic_expr_interval,
      });
  }

  unless $htcondor::debug.empty {
    htcondor::config_file { '60-debug':
      content => $htcondor::debug.map |$daemon, $levels| { "${daemon}_DEBUG = ${levels}\n" }.join,
    }
  }

  unless $htcondor::knobs.empty {
    htcondor::config_file { '90-site':
      content => $htcondor::knobs.map |$name, $value| { "${name} = ${value}\n" }.join,
    }
  }

  if 'central_manager' in $htcondor::roles {
    htcondor::config_file { '50-central-manager':
      content => epp('htcondor/central_manager.conf.epp'),
    }
  }
  if 'submit' in $htcondor::roles {
    htcondor::config_file { '50-submit':
      content => epp('htcondor/submit.conf.epp'),
    }
  }
  if 'execute' in $htcondor::roles {
    htcondor::config_file { '50-execute':
      content => epp('htcondor/execute.conf.epp', {
          'num_cpus'          => $htcondor::num_cpus,
          'container_runtime' => $htcondor::container_runtime,
          'container_binds'   => $htcondor::container_binds,
      }),
    }
  }
}
