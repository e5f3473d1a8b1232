# @summary The hub's own PAM service: users log in with their Kerberos
# password (pam_krb5), checked by the hub as its unprivileged account.
#
# JupyterHub's PAM authenticator names the service (`service`); the
# jupyterhub-unchained authenticator then gives the user a ticket cache of
# their own with kinit (see hub/README.md).
#
# @param service
#   The PAM service's name, `/etc/pam.d/NAME`.
# @param minimum_uid
#   pam_krb5 ignores accounts below this uid (root, system accounts).
class profile::jupyterhub::pam (
  String[1] $service = 'jupyterhub',
  Integer[1] $minimum_uid = 1000,
) {
  package { 'libpam-krb5':
    ensure => installed,
  }
  file { "/etc/pam.d/${service}":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @("PAM"),
      # Managed by Puppet (profile::jupyterhub::pam). Kerberos only: no local
      # passwords, no session (the hub makes the user's ticket cache itself).
      # The KDC refuses expired and disabled principals at auth; pam_krb5's
      # account check needs root, which the hub is not, so account checks
      # are the hub's own (allowed users, and the group its sudo rule names).
      auth     required  pam_krb5.so minimum_uid=${minimum_uid} no_ccache
      account  required  pam_permit.so
      | PAM
    require => Package['libpam-krb5'],
  }
}
