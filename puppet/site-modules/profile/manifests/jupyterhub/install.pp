# @summary The hub's packages, service account, sudo rule and venv.
#
# A change of the venv (requirements or our own wheels) restarts the hub. The
# sudo rule is here rather than in `config`: sudo reads it for every command,
# so a change to it needs no restart.
#
# @api private
class profile::jupyterhub::install {
  assert_private()

  $service_user = $profile::jupyterhub::service_user
  $state_dir = $profile::jupyterhub::state_dir
  $venv = $profile::jupyterhub::venv

  package { [$profile::jupyterhub::proxy_package, 'sudo']:
    ensure => installed,
  }

  group { $service_user:
    ensure => present,
    system => true,
  }
  user { $service_user:
    ensure  => present,
    system  => true,
    gid     => $service_user,
    home    => $state_dir,
    shell   => '/usr/sbin/nologin',
    comment => 'JupyterHub',
    require => Group[$service_user],
  }
  file { $state_dir:
    ensure => directory,
    owner  => $service_user,
    group  => $service_user,
    mode   => '0700',
  }

  profile::python_venv { $venv:
    requirements   => $profile::jupyterhub::requirements,
    local_packages => $profile::jupyterhub::local_packages,
    notify         => Service['jupyterhub'],
  }

  file { '/etc/sudoers.d/jupyterhub':
    ensure       => file,
    owner        => 'root',
    group        => 'root',
    mode         => '0440',
    content      => epp('profile/jupyterhub.sudoers.epp', {
        'service_user'   => $service_user,
        'user_group'     => $profile::jupyterhub::user_group,
        'condor_bin_dir' => $profile::jupyterhub::condor_bin_dir,
        'venv'           => $venv,
    }),
    validate_cmd => '/usr/sbin/visudo -cf %',
    require      => Package['sudo'],
  }
}
