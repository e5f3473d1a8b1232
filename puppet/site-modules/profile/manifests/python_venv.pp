# @summary A Python virtual environment with pinned requirements.
#
# Packages come from wherever /etc/pip.conf (profile::pip) points. Wheels in
# `local_packages` (a directory, e.g. one our own build fills) are copied in
# and reinstalled whenever any of them changes, even at the same version.
#
# @param requirements
#   pip requirement lines, e.g. `jupyterhub==6.1.1`.
# @param local_packages
#   A directory of wheels to copy into the venv and prefer over the index.
# @param python
#   The interpreter the venv is made from.
define profile::python_venv (
  Array[String[1]] $requirements,
  Optional[Stdlib::Absolutepath] $local_packages = undef,
  Stdlib::Absolutepath $python = '/usr/bin/python3',
) {
  $venv = $title
  $pip = "${venv}/bin/pip"
  $local_dir = "${venv}/local-packages"
  $find_local = $local_packages ? {
    undef   => '',
    default => " --find-links ${local_dir}",
  }

  exec { "python venv ${venv}":
    command => "${python} -m venv ${venv}",
    creates => "${venv}/bin/python",
    require => Class['profile::pip'],
  }

  file { "${venv}/requirements.txt":
    ensure  => file,
    mode    => '0644',
    content => "# Managed by Puppet (profile::python_venv).\n${requirements.join("\n")}\n",
    require => Exec["python venv ${venv}"],
  }

  # Installed once per change of the requirements; the stamp records which.
  $install = "${pip} install --quiet${find_local} -r ${venv}/requirements.txt"
  exec { "pip install ${venv}":
    command  => "${install} && cp ${venv}/requirements.txt ${venv}/requirements.installed",
    unless   => "/usr/bin/cmp -s ${venv}/requirements.txt ${venv}/requirements.installed",
    provider => shell,
    timeout  => 900,
    require  => File["${venv}/requirements.txt"],
  }

  if $local_packages {
    file { $local_dir:
      ensure  => directory,
      source  => $local_packages,
      recurse => true,
      purge   => true,
      force   => true,
      mode    => '0644',
      require => Exec["python venv ${venv}"],
      before  => Exec["pip install ${venv}"],
      notify  => Exec["pip reinstall local ${venv}"],
    }
    exec { "pip reinstall local ${venv}":
      command     => "${pip} install --quiet --no-deps --force-reinstall ${local_dir}/*.whl",
      provider    => shell,
      refreshonly => true,
      require     => Exec["pip install ${venv}"],
    }
  }
}
