# @summary The hub's configuration file, certificate and systemd unit.
#
# `/etc/jupyterhub/jupyterhub_config.json` is the `config` parameter of
# `unchained_hub` merged over the defaults below, with the TLS files
# and the services added (admin, metrics, the idle culler). Every change here restarts the hub
# (config ~> service); a change of the unit reloads systemd first.
#
# @api private
class unchained_hub::config {
  assert_private()

  $service_user = $unchained_hub::service_user
  $state_dir = $unchained_hub::state_dir

  $defaults = {
    'JupyterHub'            => {
      'spawner_class'      => 'unchained',
      'db_url'             => "sqlite:///${state_dir}/jupyterhub.sqlite",
      'cookie_secret_file' => "${state_dir}/jupyterhub_cookie_secret",
      # Notebook servers are HTCondor jobs that outlive a hub restart.
      'cleanup_servers'    => false,
      # Pages of JupyterHub's that the site bundle mends (files/jupyterhub/templates).
      'template_paths'     => ['/etc/jupyterhub/templates'],
    },
    'UnchainedSpawner'      => {
      'tunnel_python'  => "${unchained_hub::venv}/bin/python3",
      'condor_bin_dir' => $unchained_hub::condor_bin_dir,
      # The hub's jobs carry it; its schedd knows it (`schedd`).
      'hub_id'         => $unchained_hub::hub_id,
    },
    # The proxy `install` put in place, with Debian's node, whatever PATH says.
    'ConfigurableHTTPProxy' => {
      'command' => $unchained_hub::proxy_command,
    },
  }
  $tls = $unchained_hub::tls_certificate ? {
    undef   => {},
    default => { 'JupyterHub' => {
        'ssl_cert' => '/etc/jupyterhub/tls/hub.crt',
        'ssl_key'  => '/etc/jupyterhub/tls/hub.key',
    } },
  }
  $tokens = $unchained_hub::admin_services.unwrap
  $admin_services = $tokens.map |$name, $token| { { 'name' => $name, 'api_token' => $token } }
  $admin_roles = $tokens.empty ? {
    true    => [],
    default => [{ 'name' => 'admin', 'services' => $tokens.keys }],
  }
  $scrapers = $unchained_hub::metrics_services.unwrap
  $metrics_services = $scrapers.map |$name, $token| { { 'name' => $name, 'api_token' => $token } }
  $metrics_roles = $scrapers.empty ? {
    true    => [],
    default => [{ 'name' => 'metrics', 'scopes' => ['read:metrics'], 'services' => $scrapers.keys }],
  }
  # The idle culler: a service the hub starts, with the scopes it needs to
  # find idle servers and stop them (restricted to some users if asked).
  $culler = $unchained_hub::idle_culler
  if $culler {
    $culler_args = [
      "--timeout=${culler['timeout']}",
      "--cull-every=${pick($culler['every'], $culler['timeout'] / 2)}",
      "--max-age=${pick($culler['max_age'], 0)}",
    ]
    $filters = $culler['users'] ? {
      undef   => [''],
      default => $culler['users'].map |$user| { "!user=${user}" },
    }
    $culler_scopes = ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'].map |$scope| {
      $filters.map |$filter| { "${scope}${filter}" }
    }.flatten
    $culler_services = [{
        'name'    => 'idle-culler',
        'command' => ["${unchained_hub::venv}/bin/python3", '-m', 'jupyterhub_idle_culler'] + $culler_args,
    }]
    $culler_roles = [{ 'name' => 'idle-culler', 'scopes' => $culler_scopes, 'services' => ['idle-culler'] }]
  } else {
    $culler_services = []
    $culler_roles = []
  }
  $services = $admin_services + $metrics_services + $culler_services
  $service_roles = $services.empty ? {
    true    => {},
    default => { 'JupyterHub' => {
        'services'   => $services,
        'load_roles' => $admin_roles + $metrics_roles + $culler_roles,
    } },
  }
  # Where users' tickets go: the hub makes each user's directory there.
  $ccache = $unchained_hub::ccache_dir ? {
    undef   => {},
    default => { 'KerberosPAMAuthenticator' => { 'ccache_dir' => $unchained_hub::ccache_dir } },
  }
  $hub_config = deep_merge($defaults, $tls, $ccache, $unchained_hub::config, $service_roles)

  file { '/etc/jupyterhub':
    ensure => directory,
    owner  => 'root',
    group  => $service_user,
    mode   => '0750',
  }
  file { '/etc/jupyterhub/templates':
    ensure  => directory,
    owner   => 'root',
    group   => $service_user,
    mode    => '0640',  # and 0750 for the directory
    recurse => true,
    purge   => true,
    source  => 'puppet:///modules/unchained_hub/templates',
  }
  # Holds the services' tokens: readable by the hub only.
  file { '/etc/jupyterhub/jupyterhub_config.json':
    ensure    => file,
    owner     => 'root',
    group     => $service_user,
    mode      => '0640',
    content   => Sensitive(to_json_pretty($hub_config)),
    show_diff => false,
  }

  if $unchained_hub::tls_certificate {
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
      content => $unchained_hub::tls_certificate,
    }
    # Readable by the hub's account, which hands it to the proxy.
    file { '/etc/jupyterhub/tls/hub.key':
      ensure    => file,
      owner     => 'root',
      group     => $service_user,
      mode      => '0640',
      content   => $unchained_hub::tls_key,
      show_diff => false,
    }
  }

  file { '/etc/systemd/system/jupyterhub.service':
    ensure  => file,
    mode    => '0644',
    content => epp('unchained_hub/jupyterhub.service.epp', {
        'service_user' => $service_user,
        'state_dir'    => $state_dir,
        'venv'         => $unchained_hub::venv,
    }),
  }
  ~> exec { 'jupyterhub-systemd-reload':
    command     => ['/usr/bin/systemctl', 'daemon-reload'],
    refreshonly => true,
  }
}
