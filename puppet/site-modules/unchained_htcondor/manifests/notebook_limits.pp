# @summary The schedd holds a JupyterHub's notebook jobs to the hub's limits.
#
# A notebook job carries the attribute `marker` with the hub's id. The hub
# checks what its users ask for, but their login ticket lets them submit such
# a job by hand, or `condor_qedit` one, past those checks. This submit host's
# schedd enforces the same limits for every job that carries the marker,
# whoever submits or edits it (`/etc/condor/config.d/55-notebook-limits.conf`):
#
# * at submit, the marker, the resource requests, the run time and the
#   environment become plain values (`JOB_TRANSFORM_NAMES`: an expression
#   could ask for more when the job is matched than when it was checked), and
#   a job is refused unless the marker is exactly `hub_id`, the requests are
#   within the maxima, the run time (`runtime_attribute`, seconds) is at most
#   `max_runtime` and the environment (`environment_attribute`) is one of
#   `environments` (`SUBMIT_REQUIREMENT_NAMES`, with a reason in the user's
#   words);
# * once submitted, nobody can change or add the marker
#   (`IMMUTABLE_JOB_ATTRS`), and only queue super users can change the run
#   time, the start date it counts from, the job's hold policy, its requests
#   and its environment (`PROTECTED_JOB_ATTRS`). These two lists name
#   attributes, not jobs: on this schedd no user can `condor_qedit` those
#   attributes of any job of theirs, marked or not. Everything else about
#   ordinary jobs is unchanged: they are submitted with any requests and
#   removed, held, released and edited as before;
# * a marked job that runs past its run time, or past `max_runtime` whatever
#   it says, by more than `runtime_grace` seconds is held
#   (`SYSTEM_PERIODIC_HOLD_NAMES`, hold subcode `runtime_hold_subcode`), in
#   case its own hold policy did not (a job submitted by hand need not have
#   one).
#
# The schedd's own updates and the queue super users' edits are not
# affected; the hub submits (a new job is not yet committed) and removes jobs,
# which edits none of these attributes.
#
# @example The limits of a hub whose users may ask for 4 cores, 16 GB, 20 GB of disk, no GPU, 12 hours
#   class { 'unchained_htcondor::notebook_limits':
#     hub_id                => 'hub.example.org',
#     marker                => 'UnchainedHub',
#     runtime_attribute     => 'UnchainedRuntime',
#     environment_attribute => 'UnchainedEnvironment',
#     environments          => ['python', 'r'],
#     max_cpus              => 4,
#     max_memory_mb         => 16384,
#     max_disk_kb           => 20971520,
#     max_gpus              => 0,
#     max_runtime           => 43200,
#     runtime_hold_subcode  => 4701,
#   }
#
# @param hub_id
#   The hub's id: the only value the marker may have.
# @param marker
#   The attribute that marks the hub's jobs.
# @param runtime_attribute
#   The attribute with a job's run time in seconds.
# @param environment_attribute
#   The attribute that names a job's notebook environment.
# @param environments
#   The environments the hub offers (their ids), hidden ones included.
# @param max_cpus
#   The most CPU cores a notebook job may ask for (`RequestCpus`).
# @param max_memory_mb
#   The most memory, in MB (`RequestMemory`).
# @param max_disk_kb
#   The most disk, in KB (`RequestDisk`).
# @param max_gpus
#   The most GPUs (`RequestGPUs`; a job that asks for none may leave it out).
# @param max_runtime
#   The longest run time, in seconds.
# @param runtime_hold_subcode
#   `HoldReasonSubCode` of a job held for its run time: the hub tells its
#   user the run time has passed.
# @param runtime_grace
#   Seconds past its run time before a job is held here, so that the hub
#   (which stops the server and brings its files back) and the job's own
#   hold policy act first.
class unchained_htcondor::notebook_limits (
  Unchained_htcondor::Word $hub_id,
  Unchained_htcondor::Attribute $marker,
  Unchained_htcondor::Attribute $runtime_attribute,
  Unchained_htcondor::Attribute $environment_attribute,
  Array[Unchained_htcondor::Word, 1] $environments,
  Integer[0] $max_cpus,
  Integer[0] $max_memory_mb,
  Integer[0] $max_disk_kb,
  Integer[0] $max_gpus,
  Integer[1] $max_runtime,
  Integer[0] $runtime_hold_subcode,
  Integer[0] $runtime_grace = 120,
) {
  include unchained_htcondor
  unless 'submit' in $unchained_htcondor::roles {
    fail(@("MSG"/L))
      unchained_htcondor::notebook_limits: this host runs no schedd (unchained_htcondor::roles is ${unchained_htcondor::roles}); \
      the hub's limits belong on its submit host
      | MSG
  }

  unchained_htcondor::config_file { '55-notebook-limits':
    content => epp('unchained_htcondor/notebook_limits.conf.epp', {
        'hub_id'                => $hub_id,
        'marker'                => $marker,
        'runtime_attribute'     => $runtime_attribute,
        'environment_attribute' => $environment_attribute,
        'environments'          => $environments,
        'max_cpus'              => $max_cpus,
        'max_memory_mb'         => $max_memory_mb,
        'max_disk_kb'           => $max_disk_kb,
        'max_gpus'              => $max_gpus,
        'max_runtime'           => $max_runtime,
        'runtime_hold_subcode'  => $runtime_hold_subcode,
        'runtime_grace'         => $runtime_grace,
    }),
  }
}
