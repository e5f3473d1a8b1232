# @summary The hub's own PAM service: users log in with their Kerberos
# password (pam_krb5), checked by the hub as its unprivileged account, and
# the KDC's answer verified with the hub's keytab.
#
# JupyterHub's PAM authenticator names the service (`service`); the
# jupyterhub-unchained authenticator then gives the user a ticket cache of
# their own with kinit (see hub/README.md).
#
# pam_krb5 verifies the ticket a password gets by asking for a ticket to the
# first principal of `keytab` and opening it with the key there, which a KDC
# that is not the realm's cannot make. The Kerberos library skips that check,
# silently, when it has no key to check with; the hub's processes are told
# not to (`verify_ap_req_nofail`, in a file the hub's systemd drop-in adds to
# `KRB5_CONFIG`), so that a missing or unreadable keytab refuses every login
# instead of letting any through unverified.
#
# Where `unchained_hub::ccache_dir` puts users' tickets, in a
# directory per user, that base directory is the hub's account's (made at
# boot by systemd-tmpfiles, mode 0711): the hub makes a user's directory,
# open to that user alone, before their login's kinit, so that no user can
# make another's first.
#
# @param service
#   The PAM service's name, `/etc/pam.d/NAME`.
# @param minimum_uid
#   pam_krb5 ignores accounts below this uid (root, system accounts).
# @param keytab
#   The keytab pam_krb5 verifies with: the key of a service principal of the
#   hub's own (e.g. `jupyterhub/hub.example.org`; not the schedd's
#   `host/...` key, which stays root's), readable by the hub's account
#   (`root:SERVICE_USER`, 0640). A site secret: the site's own process puts
#   it there, or Puppet writes it from `keytab_content`.
# @param keytab_content
#   Base64 of that keytab (in eyaml), or unset when the site puts the file
#   there itself.
class unchained_hub::pam (
  String[1] $service = 'jupyterhub',
  Integer[1] $minimum_uid = 1000,
  Stdlib::Absolutepath $keytab = '/etc/jupyterhub/krb5.keytab',
  Optional[Sensitive[Pattern[/\A[A-Za-z0-9+\/]+=*\z/]]] $keytab_content = undef,
) {
  $service_user = $unchained_hub::service_user
  $ccache_dir = $unchained_hub::ccache_dir

  package { 'libpam-krb5':
    ensure => installed,
  }
  file { "/etc/pam.d/${service}":
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @("PAM"),
      # Managed by Puppet (unchained_hub::pam). Kerberos only: no local
      # passwords, no session (the hub makes the user's ticket cache itself).
      # The KDC refuses expired, disabled and locked principals at auth;
      # pam_krb5's account check needs root, which the hub is not, so account
      # checks are the hub's own (allowed users, and the group its sudo rule
      # names). The ticket is verified with the hub's keytab.
      auth     required  pam_krb5.so minimum_uid=${minimum_uid} no_ccache keytab=${keytab}
      account  required  pam_permit.so
      | PAM
    require => Package['libpam-krb5'],
  }

  if $keytab_content {
    file { $keytab:
      ensure    => file,
      owner     => 'root',
      group     => $service_user,
      mode      => '0640',
      content   => Sensitive(Binary($keytab_content.unwrap)),
      show_diff => false,
      notify    => Class['unchained_hub::service'],
    }
  }

  # Read by the hub's processes after /etc/krb5.conf.
  file { '/etc/jupyterhub/krb5-verify.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @(CONF),
      # Managed by Puppet (unchained_hub::pam): the hub's processes
      # refuse a login whose ticket cannot be verified with a keytab.
      [libdefaults]
          verify_ap_req_nofail = true
      | CONF
    notify  => Class['unchained_hub::service'],
  }
  file { '/etc/systemd/system/jupyterhub.service.d':
    ensure => directory,
    owner  => 'root',
    group  => 'root',
    mode   => '0755',
  }
  file { '/etc/systemd/system/jupyterhub.service.d/kerberos.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => @(UNIT),
      # Managed by Puppet (unchained_hub::pam).
      [Service]
      Environment=KRB5_CONFIG=/etc/krb5.conf:/etc/jupyterhub/krb5-verify.conf
      | UNIT
    notify  => [Exec['jupyterhub-systemd-reload'], Class['unchained_hub::service']],
  }

  if $ccache_dir {
    file { '/etc/tmpfiles.d/jupyterhub-krb5cc.conf':
      ensure  => file,
      owner   => 'root',
      group   => 'root',
      mode    => '0644',
      content => @("TMPFILES"),
        # Managed by Puppet (unchained_hub::pam): users' ticket directories.
        d ${ccache_dir} 0711 ${service_user} ${service_user} -
        | TMPFILES
    }
    ~> exec { 'jupyterhub-krb5cc-tmpfiles':
      command     => ['/usr/bin/systemd-tmpfiles', '--create', '/etc/tmpfiles.d/jupyterhub-krb5cc.conf'],
      refreshonly => true,
      before      => Class['unchained_hub::service'],
    }
  }
}
