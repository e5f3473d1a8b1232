# Whole-host files (krb5.conf, pip.conf, apt sources, accounts) are the
# bundle's only where the site's Hiera asks for them.
describe 'site.pp' do
  context 'on a host whose site manages those files itself' do
    hiera_node 'ownfiles.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.not_to contain_file('/etc/krb5.conf') }
    it { is_expected.not_to contain_file('/etc/pip.conf') }
    it { is_expected.to contain_package('krb5-user') }
  end
end
