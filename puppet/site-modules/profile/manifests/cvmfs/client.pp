# @summary The CVMFS client on execute hosts: the repositories they mount, the
# proxy and cache quota they use, and each repository's public key.
#
# Values end up in files that the CVMFS tools source as shell, so they are
# checked against patterns here.
#
# @param repositories
#   Repository name => `server_urls` (stratum 1 URLs, `@fqrn@` allowed) and
#   `public_key` (the repository's PEM public key).
# @param http_proxy
#   CVMFS_HTTP_PROXY: the site's squid proxies (`http://squid:3128;DIRECT`).
# @param quota_limit_mb
#   Local cache size in MB.
# @param install
#   Install the `cvmfs` package and set up autofs. Off only in the lab, where
#   no registry has CVMFS and a read-only bind mount stands in for the mount.
class profile::cvmfs::client (
  Hash[Pattern[/\A[a-z0-9][a-z0-9.-]{1,62}\z/], Struct[{
        server_urls => Array[Pattern[/\Ahttps?:\/\/[A-Za-z0-9.:\/@_-]+\z/], 1],
        public_key  => Pattern[/\A-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+\/=\n]+-----END PUBLIC KEY-----\n?\z/],
  }]] $repositories = {},
  Pattern[/\A[A-Za-z0-9.:\/;|_-]+\z/] $http_proxy = 'DIRECT',
  Integer[1000] $quota_limit_mb = 20000,
  Boolean $install = true,
) {
  if $install {
    package { 'cvmfs':
      ensure => installed,
      before => File['/etc/cvmfs/default.local'],
    }
    exec { 'cvmfs_config setup':
      command     => ['/usr/bin/cvmfs_config', 'setup'],
      refreshonly => true,
      subscribe   => Package['cvmfs'],
    }
    exec { 'cvmfs_config reload':
      command     => ['/usr/bin/cvmfs_config', 'reload'],
      refreshonly => true,
      require     => Exec['cvmfs_config setup'],
    }
    $reload = Exec['cvmfs_config reload']
  } else {
    $reload = []
  }

  file { ['/etc/cvmfs', '/etc/cvmfs/config.d', '/etc/cvmfs/keys']:
    ensure => directory,
    mode   => '0755',
  }
  file { '/etc/cvmfs/default.local':
    ensure  => file,
    mode    => '0644',
    content => join([
        '# Managed by Puppet (profile::cvmfs::client).',
        "CVMFS_REPOSITORIES=${keys($repositories).sort.join(',')}",
        "CVMFS_HTTP_PROXY='${http_proxy}'",
        "CVMFS_QUOTA_LIMIT=${quota_limit_mb}",
        '',
    ], "\n"),
    notify  => $reload,
  }
  $repositories.each |$name, $repo| {
    file { "/etc/cvmfs/keys/${name}.pub":
      ensure  => file,
      mode    => '0644',
      content => $repo['public_key'],
      notify  => $reload,
    }
    file { "/etc/cvmfs/config.d/${name}.conf":
      ensure  => file,
      mode    => '0644',
      content => join([
          '# Managed by Puppet (profile::cvmfs::client).',
          "CVMFS_SERVER_URL='${repo['server_urls'].join(';')}'",
          "CVMFS_PUBLIC_KEY=/etc/cvmfs/keys/${name}.pub",
          '',
      ], "\n"),
      notify  => $reload,
    }
  }
}
