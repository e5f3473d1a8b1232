# @summary One numbered HTCondor configuration file in `/etc/condor/config.d`.
#
# @param content
#   The file's text.
# @param restart
#   Restart HTCondor on change instead of reloading it, for settings that
#   HTCondor reads only at start-up (network and shared port).
define unchained_htcondor::config_file (
  String $content,
  Boolean $restart = false,
) {
  assert_type(Pattern[/\A[0-9]{2}-[a-z0-9-]+\z/], $title)

  $on_change = $restart ? {
    true  => Service['condor'],
    false => Exec['htcondor-reload'],
  }

  file { "/etc/condor/config.d/${title}.conf":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (unchained_htcondor); local edits are overwritten.\n${content}",
    notify  => $on_change,
  }
}
