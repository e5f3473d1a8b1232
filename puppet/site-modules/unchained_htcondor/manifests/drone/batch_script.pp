# @summary The drone's batch script, `/usr/libexec/unchained-drone/drone`,
# where drones are submitted (the login host: sbatch reads it there) and
# where they run.
class unchained_htcondor::drone::batch_script {
  file { '/usr/libexec/unchained-drone':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  file { '/usr/libexec/unchained-drone/drone':
    ensure => file,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
    source => 'puppet:///modules/unchained_htcondor/drone/drone',
  }
}
