# @summary Local user accounts with fixed ids.
#
# HTCondor runs a job as the submitting user on the execute host, so a user
# must have the same uid on the hub and on every execute host. Sites with a
# directory service (LDAP, SSSD) leave `users` empty.
#
# @param users
#   Accounts by name; each gets a group of the same name and id, and is
#   a member of `groups` (e.g. the hub's user group).
# @param groups
#   Extra groups by name, with fixed ids, made before the users.
class profile::accounts (
  Hash[Unchained_hub::Username, Struct[{
        uid                => Integer[1000, 59999],
        Optional[comment]  => String[1],
        Optional[groups]   => Array[Unchained_hub::Username],
  }]] $users = {},
  Hash[Unchained_hub::Username, Struct[{ gid => Integer[1000, 59999] }]] $groups = {},
) {
  $groups.each |$name, $group| {
    group { $name:
      ensure => present,
      gid    => $group['gid'],
      before => User[$users.keys],
    }
  }
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
      groups     => $account.get('groups', []),
      require    => Group[$name],
    }
  }
}
