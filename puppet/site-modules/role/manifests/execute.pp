# @summary An execute host (startd) that needs no inbound connection:
# it reaches the pool only through the central manager's CCB.
class role::execute {
  include profile::base
  include profile::htcondor
}
