# @summary The site's Kerberos KDC (MIT), for a lab or a site without one.
class role::kdc {
  include profile::base
  include profile::kerberos::kdc
}
