# @summary The site's apt sources.
#
# Production sites normally keep their distribution's mirrors and leave
# `sources` empty; an air-gapped site (like the test lab) names its own
# repository and sets `purge` so that nothing unreachable is left.
#
# @param sources
#   deb822 sources by name.
# @param purge
#   Remove every source not in `sources`, including `/etc/apt/sources.list`.
class profile::apt (
  Hash[Pattern[/\A[a-z0-9][a-z0-9-]*\z/], Profile::Apt_source] $sources = {},
  Boolean $purge = false,
) {
  if $facts['os']['family'] == 'Debian' {
    exec { 'profile-apt-update':
      command     => ['/usr/bin/apt-get', 'update'],
      refreshonly => true,
    }

    $sources.each |$name, $source| {
      file { "/etc/apt/sources.list.d/${name}.sources":
        ensure  => file,
        mode    => '0644',
        content => epp('profile/apt.sources.epp', { 'source' => $source }),
        notify  => Exec['profile-apt-update'],
      }
    }

    if $purge {
      file { '/etc/apt/sources.list.d':
        ensure  => directory,
        recurse => true,
        purge   => true,
        notify  => Exec['profile-apt-update'],
      }
      file { '/etc/apt/sources.list':
        ensure => absent,
        notify => Exec['profile-apt-update'],
      }
    }
  }
}
