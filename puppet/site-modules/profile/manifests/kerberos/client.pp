# @summary The site's Kerberos realm in `/etc/krb5.conf`, on every host.
#
# @param realm
#   The realm, e.g. `EXAMPLE.ORG`.
# @param kdcs
#   The realm's KDCs.
# @param admin_server
#   The host of kadmind.
# @param domain
#   Hosts in this DNS domain belong to the realm.
# @param packages
#   Client tools (kinit, klist).
class profile::kerberos::client (
  Profile::Krb5_realm $realm,
  Array[Stdlib::Host, 1] $kdcs,
  Stdlib::Host $admin_server,
  Stdlib::Fqdn $domain,
  Array[String[1]] $packages = ['krb5-user'],
) {
  package { $packages:
    ensure => installed,
  }
  file { '/etc/krb5.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/krb5.conf.epp', {
        'realm'        => $realm,
        'kdcs'         => $kdcs,
        'admin_server' => $admin_server,
        'domain'       => $domain,
    }),
  }
}
