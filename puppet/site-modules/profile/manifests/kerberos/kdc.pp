# @summary An MIT Kerberos KDC for the site's realm, with its principals from
# Hiera (a lab's or a small site's; a site with a directory keeps its own).
#
# Passwords reach kdb5_util and kadmin.local on standard input from files only
# root can read, never on a command line.
#
# @param realm
#   The realm; the same as `profile::kerberos::client::realm`.
# @param master_password
#   The database's master password (stashed on the KDC).
# @param principals
#   User principals and their passwords.
# @param host_principals
#   Service principals with random keys, e.g. `host/submit.example.org` for a
#   schedd that takes users' tickets; its keytab is exported with
#   `kadmin.local ktadd` and given to that host as Hiera data.
class profile::kerberos::kdc (
  Profile::Krb5_realm $realm,
  Sensitive[String[12]] $master_password,
  Sensitive[Hash[Profile::Username, String[8]]] $principals = Sensitive({}),
  Array[Pattern[/\A[a-z]+\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?\z/]] $host_principals = [],
) {
  require profile::kerberos::client

  package { ['krb5-kdc', 'krb5-admin-server']:
    ensure => installed,
  }
  file { '/etc/krb5kdc/kdc.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/kdc.conf.epp', { 'realm' => $realm }),
    require => Package['krb5-kdc'],
  }
  # kadmind's access list: the realm's */admin principals administer it.
  file { '/etc/krb5kdc/kadm5.acl':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (profile::kerberos::kdc).\n*/admin@${realm} *\n",
    require => Package['krb5-admin-server'],
  }
  # Input for the commands below; root only.
  file { '/etc/krb5kdc/unchained':
    ensure  => directory,
    owner   => 'root',
    group   => 'root',
    mode    => '0700',
    require => Package['krb5-kdc'],
  }
  file { '/etc/krb5kdc/unchained/create.in':
    ensure    => file,
    mode      => '0600',
    content   => Sensitive("${master_password.unwrap}\n${master_password.unwrap}\n"),
    show_diff => false,
  }
  exec { "kdb5_util create ${realm}":
    command  => "/usr/sbin/kdb5_util create -s -r ${realm} < /etc/krb5kdc/unchained/create.in",
    provider => shell,
    creates  => '/var/lib/krb5kdc/principal',
    require  => File['/etc/krb5kdc/kdc.conf', '/etc/krb5kdc/unchained/create.in'],
  }
  # addprinc fails for a principal that exists; cpw then sets the password
  # either way, so the database ends as the data says.
  $user_commands = $principals.unwrap.map |$name, $password| {
    "addprinc -pw ${password} ${name}\ncpw -pw ${password} ${name}\n"
  }
  # A host key is made once: the keytab exported from it stays valid.
  $host_commands = $host_principals.map |$name| { "addprinc -randkey ${name}\n" }
  $commands = ($user_commands + $host_commands).join
  file { '/etc/krb5kdc/unchained/principals.in':
    ensure    => file,
    mode      => '0600',
    content   => Sensitive($commands),
    show_diff => false,
  }
  ~> exec { 'kadmin.local principals':
    command     => '/usr/sbin/kadmin.local < /etc/krb5kdc/unchained/principals.in',
    provider    => shell,
    refreshonly => true,
    require     => Exec["kdb5_util create ${realm}"],
  }
  service { ['krb5-kdc', 'krb5-admin-server']:
    ensure    => running,
    enable    => true,
    subscribe => [File['/etc/krb5kdc/kdc.conf', '/etc/krb5kdc/kadm5.acl'], Exec["kdb5_util create ${realm}"]],
  }
}
