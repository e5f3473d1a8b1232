# @summary HTCondor's command-line tools for a service that queries the pool
# from a host that runs no HTCondor daemon (the overlay manager), with a
# configuration file of its own and a token that may read and nothing else.
#
# @param config_file
#   The configuration the service names in `CONDOR_CONFIG`.
# @param token
#   An IDTOKEN issued on the central manager with `-authz READ` (a secret:
#   eyaml), readable by `owner` only.
# @param owner
#   The account of the service that uses it.
# @param central_manager
#   The pool's central manager.
# @param uid_domain
#   The pool's `UID_DOMAIN`.
# @param shared_port
#   The central manager's shared port.
class unchained_htcondor::client (
  Stdlib::Absolutepath $config_file,
  Sensitive[Pattern[/\A[A-Za-z0-9_.-]+\z/]] $token,
  String[1] $owner,
  Stdlib::Host $central_manager = lookup('unchained_htcondor::central_manager'),
  Stdlib::Fqdn $uid_domain = lookup('unchained_htcondor::uid_domain'),
  Stdlib::Port::Unprivileged $shared_port = lookup('unchained_htcondor::shared_port'),
) {
  include unchained_htcondor::programs_only

  $dir = dirname($config_file)
  $tokens = "${dir}/tokens.d"
  file { $config_file:
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @("CONF"/$),
      # Managed by Puppet (unchained_htcondor::client); local edits are overwritten.
      # HTCondor's tools, for a service on a host that runs no HTCondor daemon.
      CONDOR_HOST = ${central_manager}
      COLLECTOR_HOST = \$(CONDOR_HOST):${shared_port}
      UID_DOMAIN = ${uid_domain}
      TRUST_DOMAIN = ${uid_domain}
      use security:recommended_v9_0
      SEC_CLIENT_AUTHENTICATION_METHODS = IDTOKENS
      SEC_TOKEN_DIRECTORY = ${tokens}
      | CONF
  }
  file { $tokens:
    ensure  => directory,
    owner   => $owner,
    group   => 'root',
    mode    => '0500',
    recurse => true,
    purge   => true,
  }
  file { "${tokens}/pool":
    ensure    => file,
    owner     => $owner,
    group     => 'root',
    mode      => '0400',
    content   => Sensitive("${token.unwrap}\n"),
    show_diff => false,
  }
}
