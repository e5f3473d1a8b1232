# @summary Debian's Prometheus, scraping the hub's `/hub/metrics` over HTTPS.
#
# The hub's metrics need a token whose role has the scope `read:metrics`
# only: give the same token to the hub as `unchained_hub::metrics_services`
# (e.g. `{prometheus => TOKEN}`) and here as `hub_token`, both in eyaml.
#
# @param hubs
#   The hubs to scrape, `host:port` as their certificate names them.
# @param hub_token
#   The scrape token (a secret), written to a file only Prometheus reads.
# @param ca_certificate
#   The CA that signed the hubs' certificates (PEM), when the system does
#   not trust it already.
# @param scrape_interval
#   How often each hub is scraped.
# @param retention
#   How long samples are kept (`--storage.tsdb.retention.time`).
# @param package
#   Debian's package.
class profile::prometheus (
  Array[Pattern[/\A[a-z0-9.-]+:[0-9]{1,5}\z/], 1] $hubs,
  Sensitive[String[32]] $hub_token,
  Optional[Pattern[/\A-----BEGIN CERTIFICATE-----\n/]] $ca_certificate = undef,
  Pattern[/\A[0-9]+[smh]\z/] $scrape_interval = '30s',
  Pattern[/\A[0-9]+[dhwy]\z/] $retention = '30d',
  String[1] $package = 'prometheus',
) {
  package { $package:
    ensure => installed,
  }

  $token_file = '/etc/prometheus/hub.token'
  $ca_file = '/etc/prometheus/hub-ca.crt'
  file { $token_file:
    ensure    => file,
    owner     => 'root',
    group     => 'prometheus',
    mode      => '0640',
    content   => Sensitive("${hub_token.unwrap}\n"),
    show_diff => false,
    require   => Package[$package],
  }
  file { $ca_file:
    ensure  => if $ca_certificate { 'file' } else { 'absent' },
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => $ca_certificate,
    require => Package[$package],
  }
  file { '/etc/prometheus/prometheus.yml':
    ensure       => file,
    owner        => 'root',
    group        => 'root',
    mode         => '0644',
    content      => epp('profile/prometheus.yml.epp', {
        'hubs'            => $hubs,
        'token_file'      => $token_file,
        'ca_file'         => if $ca_certificate { $ca_file } else { undef },
        'scrape_interval' => $scrape_interval,
    }),
    validate_cmd => '/usr/bin/promtool check config %',
    require      => File[$token_file, $ca_file],
  }
  file { '/etc/default/prometheus':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (profile::prometheus).\nARGS=\"--storage.tsdb.retention.time=${retention}\"\n",
    require => Package[$package],
  }
  service { 'prometheus':
    ensure    => running,
    enable    => true,
    subscribe => File['/etc/prometheus/prometheus.yml', '/etc/default/prometheus', $token_file, $ca_file],
  }
}
