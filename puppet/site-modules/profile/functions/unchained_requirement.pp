# @summary jupyterhub-unchained's requirement line, pinned by the version and hash in `unchained::package`.
#
# @param package
#   The wheel's version and sha256 (Hiera `unchained::package`).
function profile::unchained_requirement(Profile::Package_pin $package) >> Profile::Pinned_requirement {
  "jupyterhub-unchained==${package['version']} --hash=sha256:${package['sha256']}"
}
