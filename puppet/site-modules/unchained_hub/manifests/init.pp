# @summary JupyterHub with the Unchained spawner, as an unprivileged service.
#
# The hub runs as `service_user`. Its only privilege is a sudo rule that lets
# it run the few HTCondor commands of the spawner as members of `user_group`
# (never as root or a system account): a user's job is submitted, reached
# and removed as that user.
#
# The configuration is JSON made from the `config` hash (JupyterHub's own
# sections: `JupyterHub`, `Authenticator`, `UnchainedSpawner`, ...), merged
# over the defaults of `unchained_hub::config`; no Python is templated.
#
# The proxy is configurable-http-proxy `proxy_version` from the npm
# registry, not Debian's package (4.5): only version 5 and later route to
# notebook servers on Unix sockets (`http+unix://`). It is installed as root
# into `proxy_dir/VERSION`, from the registry with Debian's npm or, on hosts
# that cannot reach it, from `proxy_source`, and the hub starts it with
# Debian's node (`ConfigurableHTTPProxy.command`).
#
# The hub's login is the PAM service of `unchained_hub::pam` (Kerberos),
# which this class contains; its settings are that class's.
#
# The work is done by private classes, chained install -> config ~>
# service: `install` (the packages, the proxy, the service account, its sudo
# rule and the venv, whose changes restart the hub), `config` (the JSON
# file, the certificate and the systemd unit: any change restarts the hub)
# and `service`; and `schedd`, which has the host's schedd enforce the
# hub's `resource_limits` and `environments` for the hub's jobs
# (`unchained_htcondor::notebook_limits`): users could otherwise submit or edit such a
# job by hand, past the hub. Both settings are therefore required.
#
# @example An offline site: the proxy from a tarball it made with npm elsewhere
#   # npm install --prefix /tmp/chp configurable-http-proxy@5.3.0
#   # tar -czf configurable-http-proxy-5.3.0.tar.gz -C /tmp/chp .
#   class { 'unchained_hub':
#     proxy_source => '/srv/packages/configurable-http-proxy-5.3.0.tar.gz',
#   }
#
# @example A hub with one notebook environment
#   class { 'unchained_hub':
#     config => {
#       'JupyterHub'       => { 'bind_url' => 'http://:8000' },
#       'UnchainedSpawner' => {
#         'environments' => {
#           'py' => {
#             'display_name' => 'Python',
#             'launcher'     => '/opt/unchained/singleuser/bin/unchained-singleuser',
#             'command'      => ['/opt/unchained/singleuser/bin/jupyterhub-singleuser'],
#           },
#         },
#       },
#     },
#   }
#
# @param config
#   JupyterHub configuration by section, e.g. `{'UnchainedSpawner' => {'environments' => {...}}}`.
#   The settings Puppet knows are checked against their types, and a wrong
#   one fails the catalogue naming it: in `JupyterHub`, `bind_url`,
#   `hub_bind_url`, `hub_connect_url` (URLs), `allow_named_servers`,
#   `cleanup_servers` (Booleans), `authenticator_class`, `spawner_class`; in
#   `Authenticator`, `allowed_users` and `admin_users` (`Unchained_hub::Username`s);
#   in `KerberosPAMAuthenticator`, `service`, `kinit`, `kinit_timeout`,
#   `ccache_dir` (by default the parameter `ccache_dir`),
#   `ticket_renew_interval`, `lockout_duration`; in
#   `UnchainedSpawner`, `environments` (`Unchained_hub::Environment` by
#   id), `default_environment`, `resource_limits`, `presets`, `hub_id`,
#   `files_dir`, `job_log_dir`, the paths `condor_bin_dir`, `sudo`,
#   `tunnel_python`, and the intervals in seconds; in
#   `ConfigurableHTTPProxy`, `command` (by default the proxy installed
#   here). JupyterHub's other settings are written as they are (JSON data),
#   for the hub to check.
# @param admin_services
#   Services with the admin role, by name, with their API tokens (e.g. a site's monitoring).
# @param metrics_services
#   Services whose token may read `/hub/metrics` and nothing else (the role
#   `metrics`, scope `read:metrics`), by name, with their API tokens: the
#   site's Prometheus (e.g. the control repo's profile::prometheus).
# @param idle_culler
#   Stop servers idle for `timeout` seconds (jupyterhub-idle-culler, from the
#   hub's venv, as a service the hub runs with only the scopes it needs),
#   checking every `every` seconds (default: timeout / 2), and servers older
#   than `max_age` seconds whatever their activity (default 0: never); only
#   the servers of `users` when that is given. Unset: no culling.
# @param requirements
#   Pinned requirement lines of the hub's venv (unchained_hub::python_venv) besides
#   jupyterhub-unchained: by default the lock made by puppet/lock-venvs.
# @param unchained_package
#   The version and sha256 of the jupyterhub-unchained wheel to install (Hiera
#   `unchained::package`, shared with the execute hosts).
# @param find_links
#   A directory of wheels besides pip's configuration (e.g. the site's build of hub/).
# @param venv
#   Where the hub's Python environment lives.
# @param state_dir
#   The hub's database and cookie secret; the service account's home.
# @param service_user
#   The account the hub runs as.
# @param user_group
#   Users the hub may act for; a user outside it cannot start a server.
#   It must exist (profile::accounts or the site's directory).
# @param proxy_version
#   The version of configurable-http-proxy, 5.0.0 or later. A change
#   installs it next to the earlier ones (which stay until removed by hand)
#   and restarts the hub.
# @param proxy_source
#   A tarball (`.tar.gz`) of an npm install tree of configurable-http-proxy
#   `proxy_version` (with `node_modules/` at its top), on this host; unset,
#   npm installs that version from the registry npm is configured with.
#   Puppet unpacks it again, and restarts the hub, whenever its content
#   changes, and refuses one whose proxy is not `proxy_version`.
# @param proxy_dir
#   Where the proxy's versions are installed (`proxy_dir/VERSION`), owned by
#   root; `/usr/local/bin/configurable-http-proxy` links to the current one.
# @param condor_bin_dir
#   Where the HTCondor commands are (named in the sudo rule).
# @param tls_certificate
#   The hub's certificate (PEM, with its chain), from the site's CA. With
#   `tls_key`, the proxy serves HTTPS and JupyterHub's cookies are secure.
# @param tls_key
#   The certificate's private key (PEM; a secret: eyaml).
# @param ccache_dir
#   Where users' tickets are kept, a directory per user
#   (`default_ccache_name = FILE:DIR/%{uid}/ccache` in krb5.conf): the hub's
#   account owns DIR and makes each user's directory at their login. Unset:
#   the Kerberos library's default.
class unchained_hub (
  Hash[String[1], Hash[String[1], Data]] $config = {},
  Sensitive[Hash[Pattern[/\A[a-z][a-z0-9-]*\z/], String[32]]] $admin_services = Sensitive({}),
  Sensitive[Hash[Pattern[/\A[a-z][a-z0-9-]*\z/], String[32]]] $metrics_services = Sensitive({}),
  Array[Unchained_hub::Pinned_requirement] $requirements = unchained_hub::venv_lock('hub-cp313-x86_64.txt'),
  Optional[Unchained_hub::Package_pin] $unchained_package =
    lookup('unchained::package', Optional[Unchained_hub::Package_pin], 'first', undef),
  Optional[Stdlib::Absolutepath] $find_links = undef,
  Optional[Struct[{
        'timeout'           => Integer[60],
        Optional['every']   => Integer[10],
        Optional['max_age'] => Integer[0],
        Optional['users']   => Array[Unchained_hub::Username, 1],
  }]] $idle_culler = undef,
  Stdlib::Absolutepath $venv = '/opt/jupyterhub',
  Stdlib::Absolutepath $state_dir = '/var/lib/jupyterhub',
  Unchained_hub::Username $service_user = 'jupyterhub',
  Unchained_hub::Username $user_group = 'jupyterhub-users',
  Unchained_hub::Proxy_version $proxy_version = '5.3.0',
  Optional[Pattern[/\A\/[^\n]*\.(tar\.gz|tgz)\z/]] $proxy_source = undef,
  Stdlib::Absolutepath $proxy_dir = '/opt/configurable-http-proxy',
  Stdlib::Absolutepath $condor_bin_dir = '/usr/bin',
  Optional[Pattern[/\A-----BEGIN CERTIFICATE-----\n/]] $tls_certificate = undef,
  Optional[Sensitive[Pattern[/\A-----BEGIN [A-Z ]*PRIVATE KEY-----\n/]]] $tls_key = undef,
  Optional[Pattern[/\A\/[A-Za-z0-9_.\/-]+\z/]] $ccache_dir = undef,
) {
  if ($tls_certificate =~ Undef) != ($tls_key =~ Undef) {
    fail('unchained_hub: tls_certificate and tls_key go together; set both or neither')
  }

  # The settings of `config` that Puppet knows, with their types, so that a
  # wrong one fails here, named, rather than the hub when it starts. A Struct
  # cannot leave room for JupyterHub's many other settings, so each known
  # one that is set is checked on its own.
  $choice_id = Pattern[/\A[a-z0-9][a-z0-9_.-]{0,63}\z/] # environment and preset ids (the hub's rule)
  $seconds = Variant[Integer[0], Float[0]]
  $relative_dir = Pattern[/\A[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\z/]
  $limit = Struct[{ 'min' => Numeric, 'max' => Numeric, 'default' => Numeric }]
  $accounting_group = Pattern[/\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z/]
  $known_settings = {
    'JupyterHub'               => {
      'bind_url'            => Stdlib::HTTPUrl,
      'hub_bind_url'        => Stdlib::HTTPUrl,
      'hub_connect_url'     => Stdlib::HTTPUrl,
      'allow_named_servers' => Boolean,
      'cleanup_servers'     => Boolean,
      'authenticator_class' => String[1],
      'spawner_class'       => String[1],
    },
    'Authenticator'            => {
      'allowed_users' => Array[Unchained_hub::Username],
      'admin_users'   => Array[Unchained_hub::Username],
    },
    'KerberosPAMAuthenticator' => {
      'service'               => String[1],
      'kinit'                 => Stdlib::Absolutepath,
      'kinit_timeout'         => $seconds,
      'ccache_dir'            => Stdlib::Absolutepath,
      'ticket_renew_interval' => $seconds,
      'lockout_duration'      => $seconds,
    },
    'ConfigurableHTTPProxy'    => {
      'command' => Variant[String[1], Array[String[1], 1]],
    },
    'UnchainedSpawner'         => {
      'environments'          => Hash[$choice_id, Unchained_hub::Environment, 1],
      'default_environment'   => $choice_id,
      'resource_limits'       => Struct[{
          cpus          => $limit,
          memory_gb     => $limit,
          disk_gb       => $limit,
          gpus          => $limit,
          runtime_hours => $limit,
      }],
      'presets'               => Hash[$choice_id, Struct[{
            Optional[display_name]  => String[1],
            Optional[environment]   => $choice_id,
            Optional[cpus]          => Numeric,
            Optional[memory_gb]     => Numeric,
            Optional[disk_gb]       => Numeric,
            Optional[gpus]          => Numeric,
            Optional[runtime_hours] => Numeric,
            Optional[sites]         => Array[Unchained_hub::Site_id, 1],
      }]],
      'sites'                 => Hash[Unchained_hub::Site_id, Struct[{
            Optional[display_name] => String[1],
            Optional[on_demand]    => Boolean,
      }]],
      'hub_id'                => Pattern[/\A[A-Za-z0-9_.:@+=,-]+\z/],
      'files_dir'             => $relative_dir,
      'job_log_dir'           => $relative_dir,
      'condor_bin_dir'        => Stdlib::Absolutepath,
      'sudo'                  => Stdlib::Absolutepath,
      'tunnel_python'         => Stdlib::Absolutepath,
      'status_interval'       => $seconds,
      'status_fast_interval'  => $seconds,
      'idle_explain_after'    => $seconds,
      'drone_wait_warning'    => $seconds,
      'connect_timeout'       => $seconds,
      'tunnel_probe_interval' => $seconds,
      'stop_grace'            => $seconds,
      'orphan_grace'          => $seconds,
      # The hub's own rules (hub/unchained_hub/additions.py), so that a value
      # that could break a submit description fails here, named.
      'job_additions'         => Struct[{
          Optional['requirements']      => Pattern[/\A[A-Za-z0-9_.:@+=,<>!&|()" *-]{1,2000}\z/],
          Optional['accounting_groups'] => Struct[{
              Optional['users']       => Hash[Unchained_hub::Username, $accounting_group],
              Optional['unix_groups'] => Hash[Pattern[/\A[a-z_][a-z0-9_.-]{0,31}\z/], $accounting_group],
              Optional['default']     => $accounting_group,
          }],
          Optional['attributes']        => Hash[Pattern[/\A[A-Za-z_][A-Za-z0-9_]{0,63}\z/],
          Variant[Integer, Float, Boolean, Pattern[/\A[A-Za-z0-9_.\/:@+=,-]+\z/]]],
      }],
    },
    'Spawner'                  => {
      'args'         => Array[Pattern[/\A[A-Za-z0-9_.\/:@+=,-]+\z/]],
      'default_url'  => Pattern[/\A\/[A-Za-z0-9_.\/:@+=,%?&-]*\z/],
      'debug'        => Boolean,
      'environment'  => Hash[Pattern[/\A[A-Za-z_][A-Za-z0-9_]*\z/], String],
    },
  }
  $config.each |$section, $settings| {
    $settings.each |$key, $value| {
      $type = $known_settings.dig($section, $key)
      if $type {
        # Nested under the Hiera key, so that the message names the setting:
        # "entry 'unchained_hub::config' entry 'JupyterHub' entry ...".
        assert_type(
          Struct[{ 'unchained_hub::config' => Struct[{ $section => Struct[{ $key => $type }] }] }],
          { 'unchained_hub::config' => { $section => { $key => $value } } },
        )
      }
    }
  }

  # This version of the proxy, installed by `install`, started by the hub (`config`).
  $proxy_home = "${proxy_dir}/${proxy_version}"
  $proxy_command = ['/usr/bin/node', "${proxy_home}/node_modules/configurable-http-proxy/bin/configurable-http-proxy"]

  # The value that marks the hub's jobs, written into its configuration even
  # where the site leaves it to the default, so that the hub and its schedd
  # (`schedd`) agree on it.
  $hub_id = $config.dig('UnchainedSpawner', 'hub_id').lest || { $facts['networking']['fqdn'] }

  contain unchained_hub::install
  contain unchained_hub::config
  contain unchained_hub::schedd
  contain unchained_hub::service
  contain unchained_hub::pam

  Class['unchained_hub::install']
  -> Class['unchained_hub::config']
  ~> Class['unchained_hub::service']
  # The schedd holds the hub's jobs to the limits before the hub offers them.
  Class['unchained_hub::schedd'] -> Class['unchained_hub::service']
}
