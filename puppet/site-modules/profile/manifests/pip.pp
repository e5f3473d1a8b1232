# @summary pip and venv, and where pip takes packages from.
#
# `/etc/pip.conf` is a whole-host file: Puppet writes it only when the site
# says where pip looks (`index_url` or `find_links`), and leaves it alone
# otherwise.
#
# Production hosts use PyPI or the site's own index; an air-gapped site
# (like the test lab) points `find_links` at a wheelhouse and sets
# `no_index`, so pip never tries to reach anything else.
#
# @param packages
#   The distribution's packages for pip and venv.
# @param index_url
#   `index-url` of the system-wide pip configuration, when not PyPI.
# @param find_links
#   A directory of wheels pip looks in first.
# @param no_index
#   Use only `find_links`, never an index.
class profile::pip (
  Array[String[1]] $packages = ['python3-pip', 'python3-venv'],
  Optional[Stdlib::HTTPUrl] $index_url = undef,
  Optional[Stdlib::Absolutepath] $find_links = undef,
  Boolean $no_index = false,
) {
  if $no_index and $find_links =~ Undef {
    fail('profile::pip::no_index needs profile::pip::find_links, or pip has nowhere to take packages from')
  }

  # ensure_packages: unchained_hub::python_venv needs them too.
  ensure_packages($packages)

  if $index_url =~ Undef and $find_links =~ Undef {
    return()
  }
  file { '/etc/pip.conf':
    ensure  => file,
    mode    => '0644',
    content => epp('profile/pip.conf.epp', {
        'index_url'  => $index_url,
        'find_links' => $find_links,
        'no_index'   => $no_index,
    }),
  }
}
