# @summary The overlay manager: COBalD/TARDIS, which starts drones at another
# site (Slurm jobs that run `unchained_htcondor::drone`'s batch script) when
# notebook jobs wait for one, and lets them go.
#
# COBalD's demand comes from the queue (`unchained_hub.overlay_controller`):
# one drone for each notebook job that waits for one and each drone that runs
# a job, between `min_drones` and `max_drones`. TARDIS submits drones by ssh
# to the site's login host as its drone account, watches them with squeue
# there and with condor_status here, and keeps what it started in a SQLite
# registry, so that a restart of COBalD leaves running drones alone. Drones
# leave by themselves when idle and after their job.
#
# @param site
#   The drone site's name, as its drones advertise it (`UnchainedSite`).
# @param login_host
#   The site's login host, which accepts ssh from this host.
# @param login_host_key
#   Its ssh host key (`TYPE BASE64`), which ssh checks.
# @param account
#   The account drones are submitted as there.
# @param ssh_private_key
#   This host's key for that account (a secret: eyaml); its public half
#   goes to `profile::drone_account::authorized_keys` at the site.
# @param condor_token
#   An IDTOKEN with `-authz READ`, to query the queue and the drones.
# @param partition
#   The Slurm partition drones run in.
# @param walltime_minutes
#   A drone's wall time. Notebooks whose run time limit does not end
#   `shutdown_margin` seconds before it do not wait for drones.
# @param shutdown_margin
#   The site's `unchained_htcondor::drone::shutdown_margin`.
# @param cores
#   Cores of one drone (a node of its own: drones run with --exclusive).
# @param memory_gb
#   Its memory.
# @param disk_gb
#   Its disk.
# @param min_drones
#   Drones kept even with nothing to do.
# @param max_drones
#   Drones at most.
# @param patience
#   Seconds a notebook that may run at any site waits for the pool's own
#   workers before a drone is started for it. Notebooks for drone sites only
#   get one at once.
# @param interval
#   Seconds between looks at the queue, and between TARDIS's acting on them
#   (starting drones).
# @param stale_after
#   Seconds after which a drone not heard from is taken for gone (killed
#   before it could say so): three of the site's
#   `unchained_htcondor::drone::update_interval`, at least.
# @param startup_command
#   The drone's batch script at the site.
# @param tardis_package
#   The cobald-tardis wheel's version and sha256: PyPI has its source only, so
#   a site builds the wheel (puppet/README.md) and pins it here.
# @param unchained_package
#   Our wheel (`unchained::package`), for the controller.
# @param find_links
#   Where pip finds these wheels, when not in pip.conf's places.
# @param venv
#   The venv COBalD runs in.
class profile::overlay_manager (
  Pattern[/\A[a-z][a-z0-9-]{0,31}\z/] $site,
  Stdlib::Host $login_host,
  Pattern[/\Assh-[a-z0-9-]+ [A-Za-z0-9+\/]+=*\z/] $login_host_key,
  Pattern[/\A[a-z_][a-z0-9_-]{0,31}\z/] $account,
  Sensitive[Pattern[/\A-----BEGIN OPENSSH PRIVATE KEY-----\n/]] $ssh_private_key,
  Sensitive[Pattern[/\A[A-Za-z0-9_.-]+\z/]] $condor_token,
  Pattern[/\A[a-z][a-z0-9_-]{0,39}\z/] $partition,
  Integer[10] $walltime_minutes,
  Integer[60] $shutdown_margin,
  Integer[1] $cores,
  Integer[1] $memory_gb,
  Integer[1] $disk_gb,
  Integer[0] $min_drones = 0,
  Integer[1] $max_drones = 4,
  Integer[0] $patience = 60,
  Integer[1] $interval = 10,
  Integer[1] $stale_after = 300,
  Stdlib::Absolutepath $startup_command = '/usr/libexec/unchained-drone/drone',
  Optional[Unchained_hub::Package_pin] $tardis_package = undef,
  Optional[Unchained_hub::Package_pin] $unchained_package =
    lookup('unchained::package', Optional[Unchained_hub::Package_pin], 'first', undef),
  Optional[Stdlib::Absolutepath] $find_links = undef,
  Stdlib::Absolutepath $venv = '/opt/unchained/overlay',
) {
  if $tardis_package =~ Undef {
    fail('profile::overlay_manager::tardis_package is not set: build the cobald-tardis wheel and pin it (puppet/README.md, "Scaling out")')
  }
  if $min_drones > $max_drones {
    fail("profile::overlay_manager: min_drones (${min_drones}) is more than max_drones (${max_drones})")
  }
  $user = 'cobald'
  $home = '/var/lib/cobald'

  user { $user:
    ensure     => present,
    system     => true,
    home       => $home,
    managehome => true,
    shell      => '/usr/sbin/nologin',
  }
  file { [$home, "${home}/.ssh"]:
    ensure  => directory,
    owner   => $user,
    group   => $user,
    mode    => '0700',
    require => User[$user],
  }
  file { "${home}/.ssh/id_ed25519":
    ensure    => file,
    owner     => $user,
    group     => $user,
    mode      => '0600',
    content   => $ssh_private_key,
    show_diff => false,
  }
  file { '/etc/cobald':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  file { '/etc/cobald/known_hosts':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "${login_host} ${login_host_key}\n",
  }
  class { 'unchained_htcondor::client':
    config_file => '/etc/cobald/condor/condor_config',
    token       => $condor_token,
    owner       => $user,
    require     => [User[$user], File['/etc/cobald/condor']],
  }
  file { '/etc/cobald/condor':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }

  file { dirname($venv):
    ensure => directory,
    mode   => '0755',
  }
  unchained_hub::python_venv { $venv:
    requirements => unchained_hub::venv_lock('overlay-manager-cp313-x86_64.txt') + [
      "cobald-tardis==${tardis_package['version']} --hash=sha256:${tardis_package['sha256']}",
      unchained_hub::unchained_requirement($unchained_package),
    ],
    find_links   => $find_links,
    require      => File[dirname($venv)],
  }

  file { '/etc/cobald/overlay.yaml':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/overlay_manager/overlay.yaml.epp', {
        'site'             => $site,
        'login_host'       => $login_host,
        'account'          => $account,
        'key_file'         => "${home}/.ssh/id_ed25519",
        'registry'         => "${home}/drones.db",
        'partition'        => $partition,
        'walltime_minutes' => $walltime_minutes,
        'shutdown_margin'  => $shutdown_margin,
        'cores'            => $cores,
        'memory_gb'        => $memory_gb,
        'disk_gb'          => $disk_gb,
        'min_drones'       => $min_drones,
        'max_drones'       => $max_drones,
        'patience'         => $patience,
        'interval'         => $interval,
        'stale_after'      => $stale_after,
        'startup_command'  => $startup_command,
    }),
  }
  file { '/etc/systemd/system/cobald.service':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/overlay_manager/cobald.service.epp', {
        'user'   => $user,
        'venv'   => $venv,
        'condor' => '/etc/cobald/condor/condor_config',
    }),
  }
  ~> exec { 'cobald-daemon-reload':
    command     => ['/usr/bin/systemctl', 'daemon-reload'],
    refreshonly => true,
  }
  service { 'cobald':
    ensure    => running,
    enable    => true,
    require   => [Exec['cobald-daemon-reload'], File["${home}/.ssh/id_ed25519"], Class['unchained_htcondor::client']],
    subscribe => [File['/etc/cobald/overlay.yaml', '/etc/cobald/known_hosts'], Unchained_hub::Python_venv[$venv]],
  }
}
