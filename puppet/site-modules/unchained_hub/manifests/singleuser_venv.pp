# @summary The notebook server's Python on execute hosts, from the wheelhouse.
#
# A stand-in until the notebook environment is published on CVMFS: jobs run
# `unchained-singleuser` and `jupyterhub-singleuser` from this venv.
#
# @param path
#   Where the venv lives on every execute host.
# @param requirements
#   Pinned requirement lines (unchained_hub::python_venv) besides jupyterhub-unchained;
#   the single-user server must match the hub's JupyterHub.
# @param unchained_package
#   The version and sha256 of the jupyterhub-unchained wheel to install (Hiera
#   `unchained::package`, shared with the hub).
# @param find_links
#   A directory of wheels besides pip's configuration (e.g. the site's build of hub/).
class unchained_hub::singleuser_venv (
  Stdlib::Absolutepath $path = '/opt/unchained/singleuser',
  Array[Unchained_hub::Pinned_requirement] $requirements = unchained_hub::venv_lock('singleuser-cp313-x86_64.txt'),
  Optional[Unchained_hub::Package_pin] $unchained_package =
    lookup('unchained::package', Optional[Unchained_hub::Package_pin], 'first', undef),
  Optional[Stdlib::Absolutepath] $find_links = undef,
) {
  file { dirname($path):
    ensure => directory,
    mode   => '0755',
  }
  unchained_hub::python_venv { $path:
    requirements => $requirements + [unchained_hub::unchained_requirement($unchained_package)],
    find_links   => $find_links,
    require      => File[dirname($path)],
  }
}
