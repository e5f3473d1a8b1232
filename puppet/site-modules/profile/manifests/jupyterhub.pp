# @summary JupyterHub with the Unchained spawner, as an unprivileged service.
#
# The hub runs as `service_user`. Its only privilege is a sudo rule that lets
# it run the few HTCondor commands of the spawner as members of `user_group`
# (never as root or a system account): a user's job is submitted, reached
# and removed as that user.
#
# The configuration is JSON made from the `config` hash (JupyterHub's own
# sections: `JupyterHub`, `Authenticator`, `UnchainedSpawner`, ...), merged
# over the defaults below; no Python is templated.
#
# @param config
#   JupyterHub configuration by section, e.g. `{'UnchainedSpawner' => {'environments' => {...}}}`.
# @param admin_services
#   Services with the admin role, by name, with their API tokens (e.g. a site's monitoring).
# @param requirements
#   pip requirement lines of the hub's venv.
# @param local_packages
#   A directory of our own wheels to install (the lab's build of hub/).
# @param venv
#   Where the hub's Python environment lives.
# @param state_dir
#   The hub's database and cookie secret; the service account's home.
# @param service_user
#   The account the hub runs as.
# @param user_group
#   Users the hub may act for; a user outside it cannot start a server.
#   It must exist (profile::accounts or the site's directory).
# @param proxy_package
#   The Debian package of configurable-http-proxy.
# @param condor_bin_dir
#   Where the HTCondor commands are (named in the sudo rule).
# @param tls_certificate
#   The hub's certificate (PEM, with its chain), from the site's CA. With
#   `tls_key`, the proxy serves HTTPS and JupyterHub's cookies are secure.
# @param tls_key
#   The certificate's private key (PEM; a secret: eyaml).
class profile::jupyterhub (
  Hash[String[1], Hash] $config = {},
  Sensitive[Hash[Pattern[/\A[a-z][a-z0-9-]*\z/], String[32]]] $admin_services = Sensitive({}),
  Array[String[1]] $requirements = ['jupyterhub==6.1.1', 'batchspawner==1.3.0', 'jupyterhub-unchained'],
  Optional[Stdlib::Absolutepath] $local_packages = undef,
  Stdlib::Absolutepath $venv = '/opt/jupyterhub',
  Stdlib::Absolutepath $state_dir = '/var/lib/jupyterhub',
  Profile::Username $service_user = 'jupyterhub',
  Profile::Username $user_group = 'jupyterhub-users',
  String[1] $proxy_package = 'node-configurable-http-proxy',
  Stdlib::Absolutepath $condor_bin_dir = '/usr/bin',
  Optional[Pattern[/\A-----BEGIN CERTIFICATE-----\n/]] $tls_certificate = undef,
  Optional[Sensitive[Pattern[/\A-----BEGIN [A-Z ]*PRIVATE KEY-----\n/]]] $tls_key = undef,
) {
  package { [$proxy_package, 'sudo']:
    ensure => installed,
  }

  group { $service_user:
    ensure => present,
    system => true,
  }
  user { $service_user:
    ensure  => present,
    system  => true,
    gid     => $service_user,
    home    => $state_dir,
    shell   => '/usr/sbin/nologin',
    comment => 'JupyterHub',
    require => Group[$service_user],
  }
  file { $state_dir:
    ensure => directory,
    owner  => $service_user,
    group  => $service_user,
    mode   => '0700',
  }

  profile::python_venv { $venv:
    requirements   => $requirements,
    local_packages => $local_packages,
    notify         => Service['jupyterhub'],
  }

  $defaults = {
    'JupyterHub'       => {
      'spawner_class'      => 'unchained',
      'db_url'             => "sqlite:///${state_dir}/jupyterhub.sqlite",
      'cookie_secret_file' => "${state_dir}/jupyterhub_cookie_secret",
      # Notebook servers are HTCondor jobs that outlive a hub restart.
      'cleanup_servers'    => false,
    },
    'UnchainedSpawner' => {
      'tunnel_python'  => "${venv}/bin/python3",
      'condor_bin_dir' => $condor_bin_dir,
    },
  }
  if ($tls_certificate =~ Undef) != ($tls_key =~ Undef) {
    fail('profile::jupyterhub: tls_certificate and tls_key go together; set both or neither')
  }
  $tls = $tls_certificate ? {
    undef   => {},
    default => { 'JupyterHub' => {
        'ssl_cert' => '/etc/jupyterhub/tls/hub.crt',
        'ssl_key'  => '/etc/jupyterhub/tls/hub.key',
    } },
  }
  $tokens = $admin_services.unwrap
  $services = $tokens.map |$name, $token| { { 'name' => $name, 'api_token' => $token } }
  $service_roles = $tokens.empty ? {
    true    => {},
    default => { 'JupyterHub' => {
        'services'   => $services,
        'load_roles' => [{ 'name' => 'admin', 'services' => $tokens.keys }],
    } },
  }
  $hub_config = deep_merge($defaults, $tls, $config, $service_roles)

  file { '/etc/jupyterhub':
    ensure => directory,
    owner  => 'root',
    group  => $service_user,
    mode   => '0750',
  }
  # Holds the services' tokens: readable by the hub only.
  file { '/etc/jupyterhub/jupyterhub_config.json':
    ensure    => file,
    owner     => 'root',
    group     => $service_user,
    mode      => '0640',
    content   => Sensitive(to_json_pretty($hub_config)),
    show_diff => false,
    notify    => Service['jupyterhub'],
  }

  if $tls_certificate {
    file { '/etc/jupyterhub/tls':
      ensure => directory,
      owner  => 'root',
      group  => $service_user,
      mode   => '0750',
    }
    file { '/etc/jupyterhub/tls/hub.crt':
      ensure  => file,
      owner   => 'root',
      group   => $service_user,
      mode    => '0644',
      content => $tls_certificate,
      notify  => Service['jupyterhub'],
    }
    # Readable by the hub's account, which hands it to the proxy.
    file { '/etc/jupyterhub/tls/hub.key':
      ensure    => file,
      owner     => 'root',
      group     => $service_user,
      mode      => '0640',
      content   => $tls_key,
      show_diff => false,
      notify    => Service['jupyterhub'],
    }
  }

  file { '/etc/sudoers.d/jupyterhub':
    ensure       => file,
    owner        => 'root',
    group        => 'root',
    mode         => '0440',
    content      => epp('profile/jupyterhub.sudoers.epp', {
        'service_user'   => $service_user,
        'user_group'     => $user_group,
        'condor_bin_dir' => $condor_bin_dir,
        'venv'           => $venv,
    }),
    validate_cmd => '/usr/sbin/visudo -cf %',
    require      => Package['sudo'],
  }

  file { '/etc/systemd/system/jupyterhub.service':
    ensure  => file,
    mode    => '0644',
    content => epp('profile/jupyterhub.service.epp', {
        'service_user' => $service_user,
        'state_dir'    => $state_dir,
        'venv'         => $venv,
    }),
  }
  ~> exec { 'jupyterhub-systemd-reload':
    command     => ['/usr/bin/systemctl', 'daemon-reload'],
    refreshonly => true,
    notify      => Service['jupyterhub'],
  }
  service { 'jupyterhub':
    ensure  => running,
    enable  => true,
    require => [File[$state_dir, '/etc/sudoers.d/jupyterhub'], Package[$proxy_package]],
  }
}
