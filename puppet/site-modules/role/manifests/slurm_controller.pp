# @summary The controller of a Slurm cluster that lends the pool drones, and
# its login host: the overlay manager submits drones here by ssh as the
# drone account (`profile::drone_account`).
class role::slurm_controller {
  include profile::base
  include profile::slurm::controller
  include profile::slurm::login
  include profile::drone_login
}
