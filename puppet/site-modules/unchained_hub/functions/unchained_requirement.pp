# @summary jupyterhub-unchained's requirement line, pinned by the version and hash in `unchained::package`.
#
# Fails, saying what to set, when the site has not pinned the wheel.
#
# @param package
#   The wheel's version and sha256 (Hiera `unchained::package`).
function unchained_hub::unchained_requirement(
  Optional[Unchained_hub::Package_pin] $package,
) >> Unchained_hub::Pinned_requirement {
  if $package =~ Undef {
    fail(@(MSG/L))
      unchained::package is not set: give the version and sha256 of the jupyterhub-unchained \
      wheel in your wheelhouse in Hiera (puppet/README.md, "Python packages")
      | MSG
  }
  "jupyterhub-unchained==${package['version']} --hash=sha256:${package['sha256']}"
}
