# @summary A submit host (schedd); the hub role builds on it.
class role::submit {
  include profile::base
  include profile::htcondor
}
