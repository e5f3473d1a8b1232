# @summary Local user accounts with fixed ids.
#
# HTCondor runs a job as the submitting user on the execute host, so a user
# must have the same uid on the hub and on every execute host. Sites with a
# directory service (LDAP, SSSD) leave `users` empty.
#
# @param users
#   Accounts by name; each gets a group of the same name and id.
class profile::accounts (
  Hash[Profile::Username, Struct[{ uid => Integer[1000, 59999], Optional[comment] => String[1] }]] $users = {},
) {
  $users.each |$name, $account| {
    group { $name:
      ensure => present,
      gid    => $account['uid'],
    }
    user { $name:
      ensure     => present,
      uid        => $account['uid'],
      gid        => $account['uid'],
      comment    => $account['comment'],
      home       => "/home/${name}",
      managehome => true,
      shell      => '/bin/bash',
      require    => Group[$name],
    }
  }
}
