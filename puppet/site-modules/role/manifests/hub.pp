# @summary The hub: JupyterHub with the Unchained spawner on a submit host.
class role::hub {
  include profile::base
  include profile::htcondor
  include profile::jupyterhub
}
