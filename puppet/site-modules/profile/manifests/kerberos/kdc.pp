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
# @param max_life
#   The longest a ticket may last, for the realm and for each principal here.
# @param max_renewable_life
#   The longest a ticket may be renewed for, likewise.
# @param lockout
#   The password policy `lockout` of the user principals: after
#   `max_failures` wrong passwords within `failure_interval`, the KDC refuses
#   the principal for `duration`, whatever password comes. Unset: no lockout.
#   User principals also require pre-authentication, without which the KDC
#   cannot tell a wrong password (nor count it).
class profile::kerberos::kdc (
  Profile::Krb5_realm $realm,
  Sensitive[String[12]] $master_password,
  Sensitive[Hash[Unchained_hub::Username, String[8]]] $principals = Sensitive({}),
  Array[Pattern[/\A[a-z]+\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?\z/]] $host_principals = [],
  Profile::Krb5_duration $max_life = '24h',
  Profile::Krb5_duration $max_renewable_life = '7d',
  Optional[Struct[{
        max_failures     => Integer[1, 100],
        failure_interval => Profile::Krb5_duration,
        duration         => Profile::Krb5_duration,
  }]] $lockout = { 'max_failures' => 5, 'failure_interval' => '10m', 'duration' => '10m' },
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
    content => epp('profile/kdc.conf.epp', {
        'realm'              => $realm,
        'max_life'           => $max_life,
        'max_renewable_life' => $max_renewable_life,
    }),
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
  $lifetimes = "-maxlife ${profile::krb5_span($max_life)} -maxrenewlife ${profile::krb5_span($max_renewable_life)}"
  # addpol and addprinc fail for what exists; modpol, cpw and modprinc then
  # set it either way, so the database ends as the data says.
  if $lockout {
    $limits = [
      "-maxfailure ${lockout['max_failures']}",
      "-failurecountinterval ${profile::krb5_span($lockout['failure_interval'])}",
      "-lockoutduration ${profile::krb5_span($lockout['duration'])}",
    ].join(' ')
    $policy_commands = ["addpol ${limits} lockout\nmodpol ${limits} lockout\n"]
    $policy = '-policy lockout'
  } else {
    $policy_commands = []
    $policy = '-clearpolicy'
  }
  $user_commands = $principals.unwrap.map |$name, $password| {
    ["addprinc ${policy} +requires_preauth -pw ${password} ${name}", "cpw -pw ${password} ${name}",
    "modprinc ${policy} +requires_preauth ${lifetimes} ${name}", ''].join("\n")
  }
  # The ticket-granting service's limits bound every ticket's.
  $realm_commands = ["modprinc ${lifetimes} krbtgt/${realm}\n"]
  # A host key is made once: the keytab exported from it stays valid.
  $host_commands = $host_principals.map |$name| { "addprinc -randkey ${name}\n" }
  $commands = ($policy_commands + $user_commands + $realm_commands + $host_commands).join
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
