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

    it 'gives host principals random keys, once' do
      commands = catalogue.resource('File', '/etc/krb5kdc/unchained/principals.in')[:content]
      commands = commands.unwrap if commands.respond_to?(:unwrap)
      expect(commands).to match(%r{^addprinc -randkey host/hub\.example\.test$})
      expect(commands).not_to match(%r{^cpw .*host/})
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

  context 'on a hub whose users submit with Kerberos tickets' do
    hiera_node 'krbhub.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }

    it 'gives the schedd its keytab, root only, never in a diff' do
      keytab = catalogue.resource('File', '/etc/condor/condor.keytab')
      expect(keytab[:mode]).to eq('0600')
      expect(keytab[:show_diff]).to be(false)
      expect(keytab.sensitive_parameters).to include(:content)
    end

    it 'takes only a ticket for changes to the queue, and maps the realm to the pool' do
      is_expected.to contain_htcondor__config_file('20-security')
        .with_content(%r{^SCHEDD\.SEC_WRITE_AUTHENTICATION_METHODS = KERBEROS$})
        .with_content(%r{^SEC_DEFAULT_AUTHENTICATION_METHODS = FS, KERBEROS, IDTOKENS$})
        .with_content(%r{^KERBEROS_SERVER_KEYTAB = /etc/condor/condor\.keytab$})
      is_expected.to contain_file('/etc/condor/kerberos.map')
        .with_content(%r{^KERBEROS \^\(\[\^@/\]\+\)@EXAMPLE\\\.TEST\$ \\1@example\.test$})
    end
  end

  context 'on a hub without that option' do
    hiera_node 'hub.example.test'
    include_context 'Debian trixie facts'

    it do
      is_expected.to contain_file('/etc/condor/condor.keytab').with_ensure('absent')
      is_expected.to contain_htcondor__config_file('20-security')
        .with_content(%r{^SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS$})
        .without_content(%r{KERBEROS})
    end
  end
end
