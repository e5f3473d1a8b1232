# @summary What every host of the site has: package sources, pip and local accounts.
class profile::base {
  include profile::apt
  include profile::pip
  include profile::accounts

  # Packages install only once the site's sources are in place.
  Class['profile::apt'] -> Package <| |>
}
