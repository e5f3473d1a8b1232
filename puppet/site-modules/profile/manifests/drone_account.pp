# @summary The account whose batch jobs are drones, on every host of the
# site that runs them, and the overlay manager's ssh key for it on the login
# host. Like every account of a Slurm cluster it has the same uid on all its
# hosts.
#
# @param account
#   The account.
# @param uid
#   Its uid (and its group's gid).
# @param authorized_keys
#   Public ssh keys (`TYPE BASE64 [COMMENT]`) that may log in as it: the
#   overlay manager's. Empty on compute nodes.
class profile::drone_account (
  Pattern[/\A[a-z_][a-z0-9_-]{0,31}\z/] $account,
  Integer[1000, 59999] $uid,
  Array[Pattern[/\Assh-ed25519 [A-Za-z0-9+\/]+=* ?[A-Za-z0-9@._-]*\z/]] $authorized_keys = [],
) {
  group { $account:
    ensure => present,
    gid    => $uid,
  }
  user { $account:
    ensure     => present,
    uid        => $uid,
    gid        => $uid,
    comment    => 'Drones of the overlay pool',
    home       => "/home/${account}",
    managehome => true,
    shell      => '/bin/bash',
    require    => Group[$account],
  }
  file { "/home/${account}/.ssh":
    ensure  => if $authorized_keys.empty { 'absent' } else { 'directory' },
    owner   => $account,
    group   => $account,
    mode    => '0700',
    force   => true,
    require => User[$account],
  }
  unless $authorized_keys.empty {
    file { "/home/${account}/.ssh/authorized_keys":
      ensure  => file,
      owner   => $account,
      group   => $account,
      mode    => '0600',
      content => "# Managed by Puppet (profile::drone_account).\n${authorized_keys.join("\n")}\n",
    }
  }
}
