# @summary Where the overlay manager submits drones: the drone account, with
# the overlay manager's ssh key, and the drone's batch script.
class profile::drone_login {
  include profile::drone_account
  include unchained_htcondor::drone::batch_script
}
