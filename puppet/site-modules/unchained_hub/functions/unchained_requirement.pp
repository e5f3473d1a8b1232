# @summary jupyterhub-unchained's requirement line, pinned by the version and hash in `unchained::package`.
#
# @param package
#   The wheel's version and sha256 (Hiera `unchained::package`).
function unchained_hub::unchained_requirement(Unchained_hub::Package_pin $package) >> Unchained_hub::Pinned_requirement {
  "jupyterhub-unchained==${package['version']} --hash=sha256:${package['sha256']}"
}
