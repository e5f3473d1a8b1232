# @summary The notebook server's Python on execute hosts, from the wheelhouse.
#
# A stand-in until the notebook environment is published on CVMFS: jobs run
# `unchained-singleuser` and `jupyterhub-singleuser` from this venv.
#
# @param path
#   Where the venv lives on every execute host.
# @param requirements
#   pip requirement lines; the single-user server must match the hub's JupyterHub.
# @param local_packages
#   A directory of our own wheels (the lab's build of hub/).
class profile::singleuser_venv (
  Stdlib::Absolutepath $path = '/opt/unchained/singleuser',
  Array[String[1]] $requirements = ['jupyterhub==6.1.1', 'jupyter_server==2.21.1', 'ipykernel==7.4.0',
    'terminado==0.18.1', 'jupyterhub-unchained'],
  Optional[Stdlib::Absolutepath] $local_packages = undef,
) {
  file { dirname($path):
    ensure => directory,
    mode   => '0755',
  }
  profile::python_venv { $path:
    requirements   => $requirements,
    local_packages => $local_packages,
    require        => File[dirname($path)],
  }
}
