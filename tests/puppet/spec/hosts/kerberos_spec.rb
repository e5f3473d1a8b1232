# Kerberos: the realm in krb5.conf on every host, the KDC with its principals,
# and the hub's PAM service. Passwords never reach a command line.
describe 'site.pp' do
  context 'on any host' do
    hiera_node 'ex1.example.test'
    include_context 'Debian trixie facts'

    it do
      is_expected.to contain_file('/etc/krb5.conf')
        .with_mode('0644')
        .with_content(%r{^    default_realm = EXAMPLE\.TEST$})
        .with_content(%r{^        kdc = kdc\.example\.test$})
        .with_content(%r{^    \.example\.test = EXAMPLE\.TEST$})
    end
  end

  context 'on the KDC' do
    hiera_node 'kdc.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_class('role::kdc') }
    it { is_expected.to contain_service('krb5-kdc').with_ensure('running') }
    it { is_expected.to contain_file('/etc/krb5kdc/kadm5.acl').with_content(%r{^\*/admin@EXAMPLE\.TEST \*$}) }

    it 'creates the database once, the master password on standard input from a root-only file' do
      is_expected.to contain_file('/etc/krb5kdc/unchained/create.in').with_mode('0600')
      is_expected.to contain_exec('kdb5_util create EXAMPLE.TEST')
        .with_command('/usr/sbin/kdb5_util create -s -r EXAMPLE.TEST < /etc/krb5kdc/unchained/create.in')
        .with_creates('/var/lib/krb5kdc/principal')
    end

    it 'keeps every password out of the commands' do
      catalogue.resources.select { |r| r.type == 'Exec' }.each do |exec|
        expect(exec[:command]).not_to match(%r{password}i)
      end
      is_expected.to contain_file('/etc/krb5kdc/unchained/principals.in')
        .with_mode('0600')
        .that_notifies('Exec[kadmin.local principals]')
    end
  end

  context 'on the hub' do
    hiera_node 'hub.example.test'
    include_context 'Debian trixie facts'

    it do
      is_expected.to contain_file('/etc/pam.d/jupyterhub')
        .with_content(%r{^auth     required  pam_krb5\.so minimum_uid=1000 no_ccache$})
        .that_requires('Package[libpam-krb5]')
    end

    it 'may run kinit as a user, with no arguments' do
      is_expected.to contain_file('/etc/sudoers.d/jupyterhub').with_content(%r{^  /usr/bin/kinit ""$})
    end
  end
end
