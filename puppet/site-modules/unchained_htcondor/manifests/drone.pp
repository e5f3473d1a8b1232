# @summary What a node of another site's batch system needs to run drones:
# HTCondor startds, each in a batch job (a Slurm job, submitted by the
# overlay manager), that join this pool through the central manager's CCB
# with a drone-only token and run notebook jobs like any worker.
#
# Nothing of HTCondor runs as a service here: `DRONE` (the batch script,
# `/usr/libexec/unchained-drone/drone`) starts a personal `condor_master`
# in the job as the drone account, with `/etc/unchained-drone/condor_config`,
# and ends when it does. A drone runs one notebook job at a time (one slot of
# all the job's cores and memory) and one job in its life: every job of the
# drone runs as the drone account, so a second one could see the first's
# leftovers. The batch job should have its node to itself (`--exclusive`).
#
# A drone stops when no job has claimed it for `idle_shutdown` seconds
# (after its one job, too). It
# takes a job only if the job's run time limit (`UnchainedRuntime`) ends
# `shutdown_margin` seconds before the batch job's wall time does, and at
# that margin it shuts down gracefully (the job's files come home).
#
# @param token
#   The drone IDTOKEN (a secret: eyaml), issued on the central manager for
#   identity `drone-SITE@UID_DOMAIN` with `-authz ADVERTISE_STARTD -authz
#   ADVERTISE_MASTER` and a lifetime; see puppet/README.md. Readable by the
#   drone account only.
# @param account
#   The local account whose batch jobs are drones (it must exist).
# @param site
#   This site's name, advertised as `UnchainedSite` (with `UnchainedDrone =
#   true`); the central manager lists it in `unchained_htcondor::drone_sites`.
# @param central_manager
#   The pool's central manager, reached at its shared port.
# @param uid_domain
#   The pool's `UID_DOMAIN`.
# @param shared_port
#   The central manager's shared port.
# @param idle_shutdown
#   Seconds a drone waits unclaimed before it ends (`STARTD_NOCLAIM_SHUTDOWN`).
# @param shutdown_margin
#   Seconds before the batch job's end at which the drone shuts down.
# @param container_runtime
#   Apptainer, for jobs in the site's job image.
# @param container_binds
#   Paths bound into container jobs (`/cvmfs`).
# @param update_interval
#   Seconds between the drone's updates to the collector.
# @param starter_update_interval
#   Seconds between job updates from the starter, as on the pool's own
#   workers (`unchained_htcondor::starter_update_interval`).
# @param starter_initial_update_interval
#   Seconds until a starter's first job update, as on the pool's own workers
#   (`unchained_htcondor::starter_initial_update_interval`).
class unchained_htcondor::drone (
  Sensitive[Pattern[/\A[A-Za-z0-9_.-]+\z/]] $token,
  Pattern[/\A[a-z_][a-z0-9_-]{0,31}\z/] $account,
  Unchained_htcondor::Site $site,
  Stdlib::Host $central_manager = lookup('unchained_htcondor::central_manager'),
  Stdlib::Fqdn $uid_domain = lookup('unchained_htcondor::uid_domain'),
  Stdlib::Port::Unprivileged $shared_port = lookup('unchained_htcondor::shared_port'),
  Integer[10] $idle_shutdown = 600,
  Integer[60] $shutdown_margin = 600,
  Optional[Stdlib::Absolutepath] $container_runtime = undef,
  Array[Unchained_htcondor::Bind_path] $container_binds = [],
  Integer[1, 3600] $update_interval = 60,
  Integer[1, 3600] $starter_update_interval = lookup('unchained_htcondor::starter_update_interval'),
  Integer[1, 3600] $starter_initial_update_interval = lookup('unchained_htcondor::starter_initial_update_interval'),
) {
  # Drones are personal HTCondors; condor_ssh_to_job runs sshd in their jobs.
  include unchained_htcondor::programs_only
  package { 'openssh-server':
    ensure => installed,
  }

  include unchained_htcondor::drone::batch_script

  file { '/etc/unchained-drone':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  # Each drone's own directory (LOCAL_DIR, with the jobs' scratch
  # directories) is made in this one, on the node's own disk.
  file { '/var/lib/unchained-drone':
    ensure => directory,
    owner  => $account,
    group  => $account,
    mode   => '0700',
  }
  file { '/etc/unchained-drone/condor_config':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('unchained_htcondor/drone.conf.epp', {
        'central_manager'                 => $central_manager,
        'uid_domain'                      => $uid_domain,
        'shared_port'                     => $shared_port,
        'site'                            => $site,
        'idle_shutdown'                   => $idle_shutdown,
        'shutdown_margin'                 => $shutdown_margin,
        'container_runtime'               => $container_runtime,
        'container_binds'                 => $container_binds,
        'update_interval'                 => $update_interval,
        'starter_update_interval'         => $starter_update_interval,
        'starter_initial_update_interval' => $starter_initial_update_interval,
    }),
  }
  file { '/etc/unchained-drone/tokens.d':
    ensure  => directory,
    owner   => $account,
    group   => 'root',
    mode    => '0500',
    recurse => true,
    purge   => true,
  }
  file { '/etc/unchained-drone/tokens.d/drone':
    ensure    => file,
    owner     => $account,
    group     => 'root',
    mode      => '0400',
    content   => Sensitive("${token.unwrap}\n"),
    show_diff => false,
  }
  file { '/usr/libexec/unchained-drone/job-sshd':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0755',
    source  => 'puppet:///modules/unchained_htcondor/drone/job-sshd',
    require => Class['unchained_htcondor::drone::batch_script'],
  }
}
