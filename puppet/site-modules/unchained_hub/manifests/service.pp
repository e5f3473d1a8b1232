# @summary Runs the hub; a change of its venv or configuration restarts it.
#
# @api private
class unchained_hub::service {
  assert_private()

  service { 'jupyterhub':
    ensure => running,
    enable => true,
  }
}
