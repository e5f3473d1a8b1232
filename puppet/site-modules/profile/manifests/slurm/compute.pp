# @summary A Slurm compute node (slurmd).
class profile::slurm::compute {
  include profile::slurm

  package { 'slurmd':
    ensure  => installed,
    require => File['/etc/slurm/slurm.conf'],
  }
  service { 'slurmd':
    ensure    => running,
    enable    => true,
    require   => Service['munge'],
    subscribe => [Package['slurmd'], File['/etc/slurm/slurm.conf', '/etc/slurm/cgroup.conf']],
  }
}
