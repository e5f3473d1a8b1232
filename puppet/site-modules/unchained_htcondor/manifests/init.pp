# @summary Installs and configures HTCondor for one or more pool roles.
#
# Configuration is written as one numbered file per concern in
# `/etc/condor/config.d`; files Puppet does not manage there are removed.
# Changes reload HTCondor (the same as `condor_reconfig`), or restart it
# where HTCondor only reads the setting at start-up.
#
# @example A central manager
#   class { 'unchained_htcondor':
#     central_manager  => 'cm.example.org',
#     uid_domain       => 'example.org',
#     roles            => ['central_manager'],
#     pool_signing_key => Sensitive('a long random string'),
#   }
#
# @param central_manager
#   Host name of the collector, negotiator and CCB (`CONDOR_HOST`).
# @param uid_domain
#   `UID_DOMAIN`: hosts sharing it treat equal user names as the same user.
# @param trust_domain
#   `TRUST_DOMAIN`: the issuer name in the pool's IDTOKENS.
# @param roles
#   What this host runs: `central_manager`, `submit` and/or `execute`.
# @param pool_signing_key
#   The pool's IDTOKENS signing key, written to `passwords.d/POOL` (mode 0600).
#   Every host that holds it can authenticate as a pool daemon.
# @param tokens
#   IDTOKENS written to `tokens.d`, by file name, each mode 0600.
# @param package_source
#   `distribution` installs the operating system's package; `upstream` adds
#   HTCondor's own repository first (not tested by this project).
# @param distribution_package
#   Package name in the distribution (module data).
# @param upstream_package
#   Package name in HTCondor's repository (module data).
# @param upstream_repository
#   Base URL of HTCondor's repository for this operating system (module data).
# @param upstream_key
#   URL of the signing key of HTCondor's repository (module data).
# @param role_packages
#   Further packages a role needs, by role: `condor_ssh_to_job` needs the
#   ssh client on submit hosts and sshd on execute hosts (module data).
# @param shared_port
#   Port of the shared port daemon and so of the collector.
# @param network_interface
#   `NETWORK_INTERFACE`, when the host has several addresses.
# @param negotiator_interval
#   Seconds between negotiation cycles (`NEGOTIATOR_INTERVAL`).
# @param negotiator_min_interval
#   Shortest time between cycles (`NEGOTIATOR_MIN_INTERVAL`).
# @param negotiator_cycle_delay
#   Delay after a cycle before a requested one starts (`NEGOTIATOR_CYCLE_DELAY`).
# @param schedd_interval
#   Seconds between schedd updates to the collector (`SCHEDD_INTERVAL`).
# @param schedd_min_interval
#   Least seconds between the schedd's updates (`SCHEDD_MIN_INTERVAL`); a
#   new job waits up to this long before it can be matched.
# @param update_interval
#   Seconds between startd updates to the collector (`UPDATE_INTERVAL`).
# @param starter_update_interval
#   Seconds between job updates from the starter (`STARTER_UPDATE_INTERVAL`).
# @param starter_initial_update_interval
#   Seconds until a starter's first job update (`STARTER_INITIAL_UPDATE_INTERVAL`).
# @param periodic_expr_interval
#   Seconds between the schedd's evaluations of jobs' periodic expressions
#   (`PERIODIC_EXPR_INTERVAL`).
# @param ccb_reconnect_time
#   Seconds a CCB client waits before reconnecting to a lost CCB server.
# @param num_cpus
#   Cores an execute host advertises, when not the detected number.
# @param container_runtime
#   Apptainer (or Singularity) on an execute host, for jobs of the container
#   universe (`SINGULARITY`); unset, the host runs no container jobs.
# @param container_binds
#   Host paths bound into every container job at the same path
#   (`SINGULARITY_BIND_EXPR`), e.g. `/cvmfs`.
# @param site
#   On an execute host: the site it is at, advertised as `UnchainedSite` in
#   its slot ads, where a notebook environment or preset may ask for it.
# @param drone_sites
#   On the central manager: the sites whose drones (startds in another batch
#   system's jobs, `unchained_htcondor::drone`) may join the pool. A site's
#   drones authenticate with IDTOKENS of identity `drone-SITE@UID_DOMAIN`,
#   which may advertise startds and masters only, and only as drones of that
#   site: the collector refuses a slot ad from them that does not say
#   `UnchainedDrone = true` and `UnchainedSite = "SITE"`.
# @param user_kerberos
#   On a submit host: users prove who they are to the schedd with a Kerberos
#   ticket instead of their local account, for everything that changes the
#   queue (submit, remove, `condor_ssh_to_job`); queries still need none.
#   Needs `kerberos_realm` and `kerberos_keytab`.
# @param kerberos_realm
#   The realm whose principals `name@REALM` are the pool's users
#   `name@UID_DOMAIN` (`CERTIFICATE_MAPFILE`).
# @param kerberos_keytab
#   Base64 of the keytab holding the submit host's `host/FQDN` key, written to
#   `/etc/condor/condor.keytab` (mode 0600).
# @param debug
#   Debug levels by daemon, e.g. `{'SCHEDD' => 'D_COMMAND'}`, written as
#   `<DAEMON>_DEBUG` to `60-debug.conf`.
# @param knobs
#   The site's own HTCondor settings for this host (set it at the role level
#   of Hiera for a role), e.g. `{'STARTD_ATTRS' => '$(STARTD_ATTRS) Site',
#   'Site' => '"north"'}`, written in this order to `90-site.conf`, after ours,
#   so that they win. A change reloads HTCondor; settings read only at start
#   (network, shared port) need `systemctl restart condor`.
class unchained_htcondor (
  Stdlib::Host $central_manager,
  Stdlib::Fqdn $uid_domain,
  Array[Unchained_htcondor::Role, 1] $roles,
  Sensitive[String[16]] $pool_signing_key,
  Enum['distribution', 'upstream'] $package_source,
  String[1] $distribution_package,
  String[1] $upstream_package,
  Stdlib::HTTPUrl $upstream_repository,
  Stdlib::HTTPUrl $upstream_key,
  Hash[Unchained_htcondor::Role, Array[String[1]]] $role_packages,
  Stdlib::Port::Unprivileged $shared_port,
  Integer[1, 3600] $negotiator_interval,
  Integer[1, 3600] $negotiator_min_interval,
  Integer[0, 3600] $negotiator_cycle_delay,
  Integer[1, 3600] $schedd_interval,
  Integer[0, 3600] $schedd_min_interval,
  Integer[1, 3600] $update_interval,
  Integer[1, 3600] $starter_update_interval,
  Integer[1, 3600] $starter_initial_update_interval,
  Integer[1, 60] $ccb_reconnect_time,
  Integer[1, 3600] $periodic_expr_interval,
  Stdlib::Fqdn $trust_domain = $uid_domain,
  Sensitive[Hash[Unchained_htcondor::Token_name, String[1]]] $tokens = Sensitive({}),
  Optional[String[1]] $network_interface = undef,
  Optional[Integer[1, 1024]] $num_cpus = undef,
  Optional[Stdlib::Absolutepath] $container_runtime = undef,
  Array[Unchained_htcondor::Bind_path] $container_binds = [],
  Optional[Unchained_htcondor::Site] $site = undef,
  Array[Unchained_htcondor::Site] $drone_sites = [],
  Boolean $user_kerberos = false,
  Optional[Pattern[/\A[A-Z0-9]([A-Z0-9.-]*[A-Z0-9])?\z/]] $kerberos_realm = undef,
  Optional[Sensitive[Pattern[/\A[A-Za-z0-9+\/]+=*\z/]]] $kerberos_keytab = undef,
  Hash[Pattern[/\A[A-Z_]+\z/], Pattern[/\A(D_[A-Z_]+(:[0-9])?[ ,]*)+\z/]] $debug = {},
  Hash[Unchained_htcondor::Knob_name, Unchained_htcondor::Knob_value] $knobs = {},
) {
  if $user_kerberos and 'submit' in $roles and ($kerberos_realm =~ Undef or $kerberos_keytab =~ Undef) {
    fail(@(MSG/L))
      unchained_htcondor::user_kerberos needs unchained_htcondor::kerberos_realm and \
      unchained_htcondor::kerberos_keytab on a submit host
      | MSG
  }

  contain unchained_htcondor::install
  contain unchained_htcondor::config
  contain unchained_htcondor::service

  Class['unchained_htcondor::install']
  -> Class['unchained_htcondor::config']
  -> Class['unchained_htcondor::service']
}
