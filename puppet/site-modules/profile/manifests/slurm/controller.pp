# @summary Slurm's controller (slurmctld). In the lab it is also the
# cluster's login host, where the overlay manager submits drones by ssh.
class profile::slurm::controller {
  include profile::slurm

  package { 'slurmctld':
    ensure  => installed,
    require => File['/etc/slurm/slurm.conf'],
  }
  service { 'slurmctld':
    ensure    => running,
    enable    => true,
    require   => Service['munge'],
    subscribe => [Package['slurmctld'], File['/etc/slurm/slurm.conf', '/etc/slurm/cgroup.conf']],
  }
}
