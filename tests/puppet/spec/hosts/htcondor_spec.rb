# The htcondor component as the execute role uses it: the files it manages
# besides the configuration text, and how changes reach the daemons.
describe 'site.pp' do
  context 'on an execute host with a token' do
    hiera_node 'ex1.example.test'
    include_context 'Debian trixie facts'

    config_d = '/etc/condor/config.d'
    pool_key = '/etc/condor/passwords.d/POOL'
    token    = '/etc/condor/tokens.d/condor@ex1.example.test'

    describe 'files' do
      it 'purges what Puppet does not manage from config.d, and reloads' do
        is_expected.to contain_file(config_d)
          .with_ensure('directory')
          .with_purge(true)
          .with_recurse(true)
          .that_notifies('Exec[htcondor-reload]')
      end

      it 'writes the pool signing key, mode 0600' do
        is_expected.to contain_file(pool_key)
          .with_mode('0600')
          .with_owner('root')
          .with_content(sensitive('rspec-fake-pool-signing-key-0123456789'))
      end

      it 'keeps the pool signing key Sensitive in the catalog' do
        resource = catalogue.resource('File', pool_key)
        expect(resource.sensitive_parameters).to include(:content)
      end

      it 'writes the token from unchained_htcondor::tokens, mode 0600 and Sensitive' do
        is_expected.to contain_file(token)
          .with_mode('0600')
          .with_content(sensitive("rspec-fake-idtoken-for-ex1\n"))
        expect(catalogue.resource('File', token).sensitive_parameters).to include(:content)
      end

      it { is_expected.to contain_file('/etc/condor/tokens.d').with_mode('0700').with_purge(true) }

      it "writes the site's knobs, the site's and the host's merged, after ours" do
        is_expected.to contain_file("#{config_d}/90-site.conf")
          .with_content(%r{^SCHEDD\.MAX_JOBS_PER_OWNER = 200$})
          .with_content(%r{^STARTD_ATTRS = \$\(STARTD_ATTRS\) Site$})
          .with_content(%r{^Site = "north"$})
          .that_notifies('Exec[htcondor-reload]')
      end
    end

    describe 'ordering and notification' do
      it { is_expected.to contain_package('htcondor').with_name('htcondor') }
      it { is_expected.to contain_service('condor').with_ensure('running').with_enable(true) }

      it 'installs the sources before the package' do
        is_expected.to contain_class('profile::apt').that_comes_before('Package[htcondor]')
      end

      it 'holds the package\'s own first start back until the pool is configured' do
        dropin = '/etc/systemd/system/condor.service.d/10-wait-for-puppet.conf'
        is_expected.to contain_file(dropin)
          .with_content(%r{^ConditionPathExists=#{config_d}/10-pool.conf$})
          .that_notifies('Exec[htcondor-systemd-reload]')
        is_expected.to contain_exec('htcondor-systemd-reload')
          .with_refreshonly(true)
          .that_comes_before('Package[htcondor]')
      end

      %w[10-pool 20-security 30-network 40-intervals 50-execute].each do |name|
        it "writes #{name}.conf after the package and before the service" do
          is_expected.to contain_file("#{config_d}/#{name}.conf")
            .that_requires('Package[htcondor]')
            .that_comes_before('Service[condor]')
        end
      end

      it 'restarts HTCondor for 30-network.conf' do
        is_expected.to contain_file("#{config_d}/30-network.conf")
          .with_notify('Service[condor]')
          .that_notifies('Service[condor]')
      end

      %w[10-pool 20-security 40-intervals 50-execute].each do |name|
        it "reloads HTCondor, not restarts it, for #{name}.conf" do
          is_expected.to contain_file("#{config_d}/#{name}.conf")
            .with_notify('Exec[htcondor-reload]')
            .that_notifies('Exec[htcondor-reload]')
        end
      end

      [pool_key, token].each do |path|
        it "reloads HTCondor for #{path}" do
          is_expected.to contain_file(path).that_notifies('Exec[htcondor-reload]')
        end
      end

      it 'reloads through systemd, before the service resource' do
        is_expected.to contain_exec('htcondor-reload')
          .with_refreshonly(true)
          .that_comes_before('Service[condor]')
      end
    end
  end
end
