# @summary The hub component (unchained_hub), with this site's Kerberos ticket directory.
#
# Its settings are the component's Hiera keys (`unchained_hub::*`,
# `unchained_hub::pam::*`); this profile only hands it where the site's
# krb5.conf puts users' tickets.
class profile::jupyterhub {
  include profile::kerberos::client
  class { 'unchained_hub':
    ccache_dir => $profile::kerberos::client::ccache_dir,
  }
}
