# @summary Drones on this node (`unchained_htcondor::drone`), run by the drone
# account; everything else from Hiera (`unchained_htcondor::drone::*`).
class profile::drone {
  include profile::drone_account

  class { 'unchained_htcondor::drone':
    account => $profile::drone_account::account,
    require => Class['profile::drone_account'],
  }
}
