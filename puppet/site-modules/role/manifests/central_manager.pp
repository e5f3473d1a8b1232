# @summary The pool's central manager: collector, negotiator, CCB and shared port.
#
# Execute hosts register with the CCB here, so this host must be reachable
# by every other host on the shared port.
class role::central_manager {
  include profile::base
  include profile::htcondor
}
