# @summary A Slurm cluster's common part (munge and slurm.conf), for a site
# that runs Slurm: the lab's site B, where the overlay pool's drones run.
#
# Every host of the cluster gets the same munge key and slurm.conf; the
# controller and compute nodes add their daemon (`profile::slurm::controller`,
# `profile::slurm::compute`).
#
# @param cluster_name
#   Slurm's ClusterName.
# @param controller
#   The controller's short host name (SlurmctldHost).
# @param controller_address
#   Its address: Slurm's daemons need a non-loopback one.
# @param nodes
#   Compute nodes by short host name: address, cores and memory (MB).
# @param partitions
#   Partitions by name: their nodes, longest run time (Slurm's
#   `days-hours:minutes:seconds` or minutes) and whether it is the default.
# @param munge_key
#   The cluster's munge key, base64 (a secret: eyaml).
# @param cgroups
#   Whether Slurm may use cgroups. Hosts on a hybrid cgroup v1 hierarchy
#   (the lab's CI machine) must not: slurmd then refuses to start. Without
#   them Slurm tracks processes by their parent and enforces no limits.
class profile::slurm (
  Pattern[/\A[a-z][a-z0-9_-]{0,39}\z/] $cluster_name,
  Pattern[/\A[a-z][a-z0-9-]{0,62}\z/] $controller,
  Stdlib::IP::Address::Nosubnet $controller_address,
  Hash[Pattern[/\A[a-z][a-z0-9-]{0,62}\z/], Struct[{
        address   => Stdlib::IP::Address::Nosubnet,
        cpus      => Integer[1, 4096],
        memory_mb => Integer[256],
  }], 1] $nodes,
  Hash[Pattern[/\A[a-z][a-z0-9_-]{0,39}\z/], Struct[{
        nodes              => Array[Pattern[/\A[a-z][a-z0-9-]{0,62}\z/], 1],
        max_time           => Pattern[/\A([0-9]+-)?[0-9]+(:[0-9]{2}){0,2}\z/],
        Optional['default'] => Boolean,
  }], 1] $partitions,
  Sensitive[Pattern[/\A[A-Za-z0-9+\/]+=*\z/]] $munge_key,
  Boolean $cgroups = true,
) {
  $undeclared = $partitions.map |$_, $p| { $p['nodes'] }.flatten.unique - $nodes.keys
  unless $undeclared.empty {
    fail("profile::slurm::partitions name nodes that profile::slurm::nodes does not list: ${undeclared.join(', ')}")
  }

  package { ['munge', 'slurm-client']:
    ensure => installed,
  }
  file { '/etc/munge/munge.key':
    ensure    => file,
    owner     => 'munge',
    group     => 'munge',
    mode      => '0600',
    content   => Sensitive(Binary($munge_key.unwrap)),
    show_diff => false,
    require   => Package['munge'],
  }
  service { 'munge':
    ensure    => running,
    enable    => true,
    subscribe => File['/etc/munge/munge.key'],
  }

  file { '/etc/slurm':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  file { '/etc/slurm/slurm.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => epp('profile/slurm/slurm.conf.epp', {
        'cluster_name'       => $cluster_name,
        'controller'         => $controller,
        'controller_address' => $controller_address,
        'nodes'              => $nodes,
        'partitions'         => $partitions,
        'cgroups'            => $cgroups,
    }),
  }
  $cgroup_plugin = if $cgroups { 'autodetect' } else { 'disabled' }
  file { '/etc/slurm/cgroup.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => "# Managed by Puppet (profile::slurm).\nCgroupPlugin=${cgroup_plugin}\n",
  }
}
