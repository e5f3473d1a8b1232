# @summary A login host of a Slurm cluster: Slurm's commands and sshd, by
# which users (and the overlay manager, as the drone account) submit jobs.
class profile::slurm::login {
  include profile::slurm

  package { 'openssh-server':
    ensure => installed,
  }
  service { 'ssh':
    ensure  => running,
    enable  => true,
    require => Package['openssh-server'],
  }
}
