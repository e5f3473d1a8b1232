# @summary What every host of the site has: package sources, pip, local
# accounts and the site's Kerberos realm.
class profile::base {
  include profile::apt
  include profile::pip
  include profile::accounts
  include profile::kerberos::client

  # Packages install only once the site's sources are in place, and pip
  # only once it knows where to look.
  Class['profile::apt'] -> Package <| |>
  Class['profile::pip'] -> Unchained_hub::Python_venv <| |>
}
