# @summary The hub's packages, proxy, service account, sudo rule and venv.
#
# A change of the venv (requirements or our own wheels) or of the proxy
# restarts the hub. The sudo rule is here rather than in `config`: sudo reads
# it for every command, so a change to it needs no restart.
#
# @api private
class unchained_hub::install {
  assert_private()

  $service_user = $unchained_hub::service_user
  $state_dir = $unchained_hub::state_dir
  $venv = $unchained_hub::venv

  package { ['nodejs', 'sudo']:
    ensure => installed,
  }
  # Debian's configurable-http-proxy (4.5, installed by earlier versions of
  # this class) cannot route to Unix sockets; the hub's is the one below.
  package { 'node-configurable-http-proxy':
    ensure => absent,
  }

  # The proxy, configurable-http-proxy from npm: one tree per version in
  # proxy_dir, owned by root (the hub's account cannot change it), unpacked
  # or installed beside the running one and moved into place only once it
  # runs as the version asked for.
  $proxy_dir = $unchained_hub::proxy_dir
  $proxy_home = $unchained_hub::proxy_home
  $proxy_version = $unchained_hub::proxy_version
  $proxy_source = $unchained_hub::proxy_source
  file { $proxy_dir:
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  if $proxy_source {
    # A copy of the tarball, so that a change of its content (or of the
    # source) shows against the checksum recorded when it was unpacked.
    $tarball = "${proxy_home}.tar.gz"
    file { $tarball:
      ensure => file,
      source => $proxy_source,
      owner  => 'root',
      group  => 'root',
      mode   => '0644',
      backup => false,
    }
    $proxy_guard = {
      # One command, as an argument list (a flat array would be four commands).
      'unless'  => [['/usr/bin/sha256sum', '--check', '--status', "${proxy_home}/.source.sha256"]],
      'require' => [File[$proxy_dir, $tarball], Package['nodejs']],
    }
  } else {
    package { 'npm':
      ensure => installed,
    }
    $tarball = ''
    $proxy_guard = {
      'creates' => "${proxy_home}/node_modules/configurable-http-proxy/package.json",
      'require' => [File[$proxy_dir], Package['nodejs', 'npm']],
    }
  }
  $install_proxy = @(SH)
    set -eu
    tmp=$1 home=$2 version=$3 tarball=$4
    trap 'rm -rf "$tmp"' EXIT
    rm -rf "$tmp"
    mkdir -m 0755 "$tmp"
    if [ -n "$tarball" ]; then
      tar -xzf "$tarball" -C "$tmp" --no-same-owner --no-same-permissions
      sha256sum "$tarball" > "$tmp/.source.sha256"
      from=$tarball
    else
      npm install --prefix "$tmp" --omit=dev --no-audit --no-fund --ignore-scripts --save-exact \
        "configurable-http-proxy@$version"
      from="the npm registry"
    fi
    installed=$(node "$tmp/node_modules/configurable-http-proxy/bin/configurable-http-proxy" --version)
    if [ "$installed" != "$version" ]; then
      echo "configurable-http-proxy from $from is $installed, not $version (unchained_hub::proxy_version)" >&2
      exit 1
    fi
    rm -rf "$home"
    mv "$tmp" "$home"
    | SH
  exec { 'install configurable-http-proxy':
    command     => ['/bin/sh', '-c', $install_proxy, 'install-configurable-http-proxy',
      "${proxy_home}.new", $proxy_home, $proxy_version, $tarball],
    path        => ['/usr/bin', '/bin'],
    environment => ['HOME=/root'],
    umask       => '0022',
    notify      => Service['jupyterhub'],
    *           => $proxy_guard,
  }
  # The pinned proxy is also the `configurable-http-proxy` on PATH, as
  # Debian's was, for anything else that starts one.
  file { '/usr/local/bin/configurable-http-proxy':
    ensure  => link,
    target  => "${proxy_home}/node_modules/.bin/configurable-http-proxy",
    require => Exec['install configurable-http-proxy'],
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

  unchained_hub::python_venv { $venv:
    requirements => $unchained_hub::requirements
      + [unchained_hub::unchained_requirement($unchained_hub::unchained_package)],
    find_links   => $unchained_hub::find_links,
    notify       => Service['jupyterhub'],
  }

  file { '/etc/sudoers.d/jupyterhub':
    ensure       => file,
    owner        => 'root',
    group        => 'root',
    mode         => '0440',
    content      => epp('unchained_hub/jupyterhub.sudoers.epp', {
        'service_user'   => $service_user,
        'user_group'     => $unchained_hub::user_group,
        'condor_bin_dir' => $unchained_hub::condor_bin_dir,
        'venv'           => $venv,
    }),
    validate_cmd => '/usr/sbin/visudo -cf %',
    require      => Package['sudo'],
  }
}
