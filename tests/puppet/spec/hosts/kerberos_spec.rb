require 'json'

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
        .with_content(%r{^    ticket_lifetime = 24h\n    renew_lifetime = 7d$})
        .without_content(%r{default_ccache_name|clockskew})
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

    it "lets tickets last the data's times, and renew for the data's" do
      is_expected.to contain_file('/etc/krb5kdc/kdc.conf')
        .with_content(%r{^        max_life = 24h\n        max_renewable_life = 7d$})
      commands = catalogue.resource('File', '/etc/krb5kdc/unchained/principals.in')[:content]
      commands = commands.unwrap if commands.respond_to?(:unwrap)
      lifetimes = '-maxlife "86400 seconds" -maxrenewlife "604800 seconds"'
      expect(commands).to include("modprinc #{lifetimes} krbtgt/EXAMPLE.TEST\n")
      expect(commands).to include("modprinc -policy lockout +requires_preauth #{lifetimes} alice\n")
    end

    it 'locks a user out after five wrong passwords, for ten minutes, by default' do
      commands = catalogue.resource('File', '/etc/krb5kdc/unchained/principals.in')[:content]
      commands = commands.unwrap if commands.respond_to?(:unwrap)
      limits = '-maxfailure 5 -failurecountinterval "600 seconds" -lockoutduration "600 seconds"'
      # The policy first, then the principals that name it, which need
      # pre-authentication for the KDC to count a wrong password.
      expect(commands).to start_with("addpol #{limits} lockout\nmodpol #{limits} lockout\n")
      expect(commands).to match(%r{^addprinc -policy lockout \+requires_preauth -pw \S+ alice$})
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
        .with_content(%r{^auth     required  pam_krb5\.so minimum_uid=1000 no_ccache keytab=/etc/jupyterhub/krb5\.keytab$})
        .that_requires('Package[libpam-krb5]')
    end

    it 'may run kinit as a user, with no arguments, and renew with kinit -R' do
      is_expected.to contain_file('/etc/sudoers.d/jupyterhub')
        .with_content(%r{^  /usr/bin/kinit "", \\\n  /usr/bin/kinit -R\n})
    end

    it 'refuses a login it cannot verify with the keytab, in the hub only' do
      is_expected.to contain_file('/etc/jupyterhub/krb5-verify.conf')
        .with_content(%r{^\[libdefaults\]\n    verify_ap_req_nofail = true$})
        .that_notifies('Class[unchained_hub::service]')
      is_expected.to contain_file('/etc/systemd/system/jupyterhub.service.d/kerberos.conf')
        .with_content(%r{^Environment=KRB5_CONFIG=/etc/krb5\.conf:/etc/jupyterhub/krb5-verify\.conf$})
        .that_notifies(['Exec[jupyterhub-systemd-reload]', 'Class[unchained_hub::service]'])
      is_expected.to contain_file('/etc/krb5.conf').without_content(%r{verify_ap_req_nofail})
    end

    it 'leaves the keytab to the site when the data has none, and tickets where the library puts them' do
      is_expected.not_to contain_file('/etc/jupyterhub/krb5.keytab')
      is_expected.not_to contain_file('/etc/tmpfiles.d/jupyterhub-krb5cc.conf')
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json).not_to have_key('KerberosPAMAuthenticator')
    end
  end

  context "on the lab's hub, with the lab's own data (tests/lab/hiera)" do
    lab_node 'hub.lab.test'
    include_context 'Debian trixie facts'

    it "keeps users' tickets in directories of their own, which the hub makes, and tolerates seconds of clock difference" do
      is_expected.to contain_file('/etc/krb5.conf')
        .with_content(%r{^    default_ccache_name = FILE:/run/krb5cc/%\{uid\}/ccache$})
        .with_content(%r{^    clockskew = 10$})
      is_expected.to contain_file('/etc/tmpfiles.d/jupyterhub-krb5cc.conf')
        .with_content(%r{^d /run/krb5cc 0711 jupyterhub jupyterhub -$})
        .that_notifies('Exec[jupyterhub-krb5cc-tmpfiles]')
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json['KerberosPAMAuthenticator']['ccache_dir']).to eq('/run/krb5cc')
    end

    it "writes the hub's keytab for the hub's account alone, never in a diff" do
      keytab = catalogue.resource('File', '/etc/jupyterhub/krb5.keytab')
      expect(keytab[:mode]).to eq('0640')
      expect([keytab[:owner], keytab[:group]]).to eq(%w[root jupyterhub])
      expect(keytab[:show_diff]).to be(false)
      expect(keytab.sensitive_parameters).to include(:content)
      is_expected.to contain_file('/etc/jupyterhub/krb5.keytab').that_notifies('Class[unchained_hub::service]')
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
      is_expected.to contain_unchained_htcondor__config_file('20-security')
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
      is_expected.to contain_unchained_htcondor__config_file('20-security')
        .with_content(%r{^SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS$})
        .without_content(%r{KERBEROS})
    end
  end
end
