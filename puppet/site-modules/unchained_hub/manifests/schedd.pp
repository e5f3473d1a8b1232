# @summary The hub's limits, enforced by its schedd too (`unchained_htcondor::notebook_limits`).
#
# The hub checks what its users ask for against `resource_limits` and
# `environments` of `UnchainedSpawner` in `unchained_hub::config`; its
# schedd holds the hub's jobs to the same values, converted the way the hub
# converts them into a job's requests (`hub/unchained_hub/options.py`):
# memory in MB, disk in KB, run time in seconds. Users' tickets let them
# submit or edit such jobs by hand, past the hub.
#
# @api private
class unchained_hub::schedd {
  assert_private()

  $spawner = $unchained_hub::config.get('UnchainedSpawner', {})
  $limits = $spawner['resource_limits']
  $environments = $spawner['environments']
  if $limits =~ Undef or $environments =~ Undef {
    fail(@(MSG/L))
      unchained_hub::config: UnchainedSpawner needs resource_limits and environments: \
      the hub's schedd enforces the same limits for its jobs (unchained_htcondor::notebook_limits)
      | MSG
  }

  # The attribute names and the hold subcode are those of the hub's submit
  # description (hub/unchained_hub/submit.py).
  class { 'unchained_htcondor::notebook_limits':
    hub_id                => $unchained_hub::hub_id,
    marker                => 'UnchainedHub',
    runtime_attribute     => 'UnchainedRuntime',
    environment_attribute => 'UnchainedEnvironment',
    environments          => $environments.keys,
    max_cpus              => floor($limits['cpus']['max']),
    max_memory_mb         => round($limits['memory_gb']['max'] * 1024),
    max_disk_kb           => round($limits['disk_gb']['max'] * 1024 * 1024),
    max_gpus              => floor($limits['gpus']['max']),
    max_runtime           => round($limits['runtime_hours']['max'] * 3600),
    runtime_hold_subcode  => 4701,
  }
  contain unchained_htcondor::notebook_limits
}
