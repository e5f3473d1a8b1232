# @summary A Python virtual environment of pinned, hash-checked packages.
#
# Every requirement is `name==version --hash=sha256:...`, dependencies
# included, and pip installs them with --require-hashes, --no-deps and
# wheels only: nothing is resolved by name alone, nothing is built from
# source, and a wheel whose content is not the one pinned (another index's,
# a name squatter's) is refused. Wheels come from where pip's configuration
# (e.g. the control repo's profile::pip) points, and from `find_links`. What pip installed last, and
# where it took each wheel from, is in the venv's `pip-report.json`.
#
# A changed line is installed again, even at the same version when only its
# hash changed; a package dropped from the list stays until the venv is made
# afresh.
#
# @param requirements
#   Pinned requirement lines, e.g. from unchained_hub::venv_lock.
# @param find_links
#   A directory of wheels to look in besides pip's configuration (e.g. the
#   one the site builds its own packages into).
# @param python
#   The interpreter the venv is made from.
define unchained_hub::python_venv (
  Array[Unchained_hub::Pinned_requirement, 1] $requirements,
  Optional[Stdlib::Absolutepath] $find_links = undef,
  Stdlib::Absolutepath $python = '/usr/bin/python3',
) {
  ensure_packages(['python3-venv', 'python3-pip'])
  $venv = $title
  $wanted = "${venv}/requirements.txt"
  $installed = "${venv}/requirements.installed"
  $changed = "${venv}/requirements.changed"
  $links = $find_links ? {
    undef   => '',
    default => " --find-links ${find_links}",
  }

  exec { "python venv ${venv}":
    command => "${python} -m venv ${venv}",
    creates => "${venv}/bin/python",
    require => Package['python3-venv'],
  }

  file { $wanted:
    ensure  => file,
    mode    => '0644',
    content => "# Managed by Puppet (unchained_hub::python_venv).\n${requirements.join("\n")}\n",
    require => Exec["python venv ${venv}"],
  }

  # Only the lines that changed since the last install are installed again.
  $pip = "${venv}/bin/pip install --quiet --require-hashes --no-deps --only-binary=:all: --force-reinstall${links}"
  exec { "pip install ${venv}":
    command  => "touch ${installed} && { grep -vxF -f ${installed} ${wanted} > ${changed} || true; } && { \
! grep -q '^[^#]' ${changed} || ${pip} --report ${venv}/pip-report.json -r ${changed}; } && cp ${wanted} ${installed}",
    unless   => "/usr/bin/cmp -s ${wanted} ${installed}",
    provider => shell,
    timeout  => 900,
    require  => File[$wanted],
  }
}
