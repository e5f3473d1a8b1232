# @summary The Kerberos client tools, and the site's realm in `/etc/krb5.conf` if asked.
#
# `/etc/krb5.conf` is a whole-host file: it is Puppet's only with
# `manage_krb5_conf` (a site whose hosts have it from elsewhere leaves it off,
# and sets `default_ccache_name` there as `ccache_dir` says).
#
# @param manage_krb5_conf
#   Write `/etc/krb5.conf` from the parameters below (realm, kdcs,
#   admin_server and domain are then required).
# @param realm
#   The realm, e.g. `EXAMPLE.ORG`.
# @param kdcs
#   The realm's KDCs.
# @param admin_server
#   The host of kadmind.
# @param domain
#   Hosts in this DNS domain belong to the realm.
# @param ccache_dir
#   Where users' tickets are kept when nothing says otherwise:
#   `default_ccache_name` is `FILE:DIR/%{uid}/ccache`, in a directory of each
#   user's that no other user can enter or make first (the library's default
#   is a file in the shared `/tmp`, whose name anyone can take before its
#   user). On the hub, the hub's account owns DIR and makes each user's
#   directory when they log in (unchained_hub::pam); elsewhere DIR must
#   be made the same way. Unset: the library's default. The kernel keyring
#   (`KEYRING:persistent`) would need no directory, but the hub's sudo'd
#   commands cannot reach it inside containers that filter `keyctl`, such as
#   systemd-nspawn's.
# @param ticket_lifetime
#   The lifetime `kinit` asks for (the KDC may give less).
# @param renew_lifetime
#   How long `kinit` asks that tickets may be renewed (`kinit -R`).
# @param clockskew
#   Seconds of clock difference tolerated between hosts (the library's
#   default is 300). An expired ticket is still accepted for this long.
# @param packages
#   Client tools (kinit, klist).
class profile::kerberos::client (
  Boolean $manage_krb5_conf = false,
  Optional[Profile::Krb5_realm] $realm = undef,
  Optional[Array[Stdlib::Host, 1]] $kdcs = undef,
  Optional[Stdlib::Host] $admin_server = undef,
  Optional[Stdlib::Fqdn] $domain = undef,
  Optional[Pattern[/\A\/[A-Za-z0-9_.\/-]+\z/]] $ccache_dir = undef,
  Profile::Krb5_duration $ticket_lifetime = '24h',
  Profile::Krb5_duration $renew_lifetime = '7d',
  Optional[Integer[1, 3600]] $clockskew = undef,
  Array[String[1]] $packages = ['krb5-user'],
) {
  package { $packages:
    ensure => installed,
  }
  unless $manage_krb5_conf {
    return()
  }
  $missing = { 'realm' => $realm, 'kdcs' => $kdcs, 'admin_server' => $admin_server, 'domain' => $domain }
    .filter |$key, $value| { $value =~ Undef }.keys
  unless $missing.empty {
    fail("profile::kerberos::client::manage_krb5_conf needs ${missing.map |$k| { "profile::kerberos::client::${k}" }.join(', ')}")
  }
  file { '/etc/krb5.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/krb5.conf.epp', {
        'realm'           => $realm,
        'kdcs'            => $kdcs,
        'admin_server'    => $admin_server,
        'domain'          => $domain,
        'ccache_dir'      => $ccache_dir,
        'ticket_lifetime' => $ticket_lifetime,
        'renew_lifetime'  => $renew_lifetime,
        'clockskew'       => $clockskew,
    }),
  }
}
