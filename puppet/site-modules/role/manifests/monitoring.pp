# @summary The site's Prometheus, which scrapes the hub's metrics over HTTPS.
class role::monitoring {
  include profile::base
  include profile::prometheus
}
