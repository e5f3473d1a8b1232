# @summary One notebook environment of the Unchained spawner.
#
# The values of `UnchainedSpawner.environments` in `unchained_hub::config`,
# by id. `launcher` is the path of `unchained-singleuser` on the workers; it
# runs `command` (the single-user server) with the variables of `environment`,
# after importing the Python modules of `preload`, in the Lmod module
# `lmod_module`, inside the job image `container_image` (an Apptainer sandbox
# or SIF on the workers). A `hidden` environment can be chosen through the
# REST API (tests, benchmarks) but is not offered in the spawn form. `sites`
# are the sites it may run at (`UnchainedSpawner.sites`; left out: any). The
# hub checks the values again when it starts (hub/README.md).
type Unchained_hub::Environment = Struct[{
    display_name              => String[1],
    launcher                  => Stdlib::Absolutepath,
    command                   => Array[String[1], 1],
    Optional[environment]     => Hash[String[1], String[1]],
    Optional[preload]         => Array[String[1]],
    Optional[lmod_module]     => Pattern[/\A[A-Za-z0-9][A-Za-z0-9._+-]*(\/[A-Za-z0-9][A-Za-z0-9._+-]*)?\z/],
    Optional[container_image] => Stdlib::Absolutepath,
    Optional[hidden]          => Boolean,
    Optional[sites]           => Array[Unchained_hub::Site_id, 1],
}]
