# @summary Apptainer, which HTCondor uses to run notebook jobs in the site's
# job image (see `unchained_htcondor::container_runtime`).
#
# @param install
#   Whether to install the package (a site may provide Apptainer otherwise,
#   e.g. from CVMFS).
# @param package
#   The package that provides it: Debian's `apptainer` (sid), or a site's own.
class profile::apptainer (
  Boolean $install = true,
  String[1] $package = 'apptainer',
) {
  if $install {
    package { $package:
      ensure => installed,
    }
  }
}
