# site.pp for one host of each role. A host's role is unchained::role in its
# fixture node data; unchained_htcondor::roles comes only from puppet/data/role/*.yaml
# (the environment layer), so the role files below prove that level is read.
describe 'site.pp' do
  config_d = '/etc/condor/config.d'

  role_files = {
    'central_manager' => "#{config_d}/50-central-manager.conf",
    'submit'          => "#{config_d}/50-submit.conf",
    'execute'         => "#{config_d}/50-execute.conf",
  }

  role_hosts = {
    'central_manager' => 'cm.example.test',
    'submit'          => 'submit.example.test',
    'execute'         => 'ex1.example.test',
  }

  role_hosts.each do |role, certname|
    context "on #{certname} (role #{role})" do
      hiera_node certname
      include_context 'Debian trixie facts'

      it { is_expected.to compile.with_all_deps }
      it { is_expected.to contain_class("role::#{role}") }
      it { is_expected.to contain_class('profile::base') }
      it { is_expected.to contain_class('unchained_htcondor').with_roles([role]) }

      it 'names the central manager in 10-pool.conf' do
        is_expected.to contain_file("#{config_d}/10-pool.conf")
          .with_content(%r{^CONDOR_HOST = cm\.example\.test$})
          .with_content(%r{^UID_DOMAIN = example\.test$})
      end

      it 'uses the recommended security and IDTOKENS in 20-security.conf' do
        is_expected.to contain_file("#{config_d}/20-security.conf")
          .with_content(%r{^use security:recommended_v9_0$})
          .with_content(%r{^SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS$})
      end

      it 'uses the shared port and a short CCB reconnect time in 30-network.conf' do
        is_expected.to contain_file("#{config_d}/30-network.conf")
          .with_content(%r{^USE_SHARED_PORT = True$})
          .with_content(%r{^CCB_RECONNECT_TIME = 5$})
      end

      it 'reconnects to the CCB within 10 seconds' do
        content = catalogue.resource('File', "#{config_d}/30-network.conf")[:content]
        reconnect = content[%r{^CCB_RECONNECT_TIME = (\d+)$}, 1]
        expect(reconnect).not_to be_nil
        expect(Integer(reconnect)).to be <= 10
      end

      it "writes the #{role} role file" do
        is_expected.to contain_file(role_files[role])
      end

      if role == 'execute'
        it 'gives each job a /tmp of its own, where the tunnel finds the notebook' do
          is_expected.to contain_file(role_files[role]).with_content(%r{^MOUNT_UNDER_SCRATCH = /tmp,/var/tmp$})
        end
      end

      (role_files.keys - [role]).each do |other|
        it "has no #{other} role file" do
          is_expected.not_to contain_file(role_files[other])
        end
      end
    end
  end

  context 'the role files' do
    context 'on the central manager' do
      hiera_node 'cm.example.test'
      include_context 'Debian trixie facts'

      it do
        is_expected.to contain_file(role_files['central_manager'])
          .with_content(%r{^use ROLE: CentralManager$})
          .with_content(%r{^ENABLE_CCB_SERVER = True$})
      end
    end

    context 'on a submit host' do
      hiera_node 'submit.example.test'
      include_context 'Debian trixie facts'

      it { is_expected.to contain_file(role_files['submit']).with_content(%r{^use ROLE: Submit$}) }
    end

    context 'on an execute host' do
      hiera_node 'ex1.example.test'
      include_context 'Debian trixie facts'

      it do
        is_expected.to contain_file(role_files['execute'])
          .with_content(%r{^use ROLE: Execute$})
          .with_content(%r{^CCB_ADDRESS = \$\(COLLECTOR_HOST\)$})
          .with_content(%r{^NUM_CPUS = 4$})
          .with_content(%r{^SINGULARITY = /usr/bin/apptainer$})
          .with_content(%r{^SINGULARITY_BIND_EXPR = "/cvmfs,/etc/lmod/modulespath"$})
      end

      it { is_expected.to contain_package('apptainer').that_comes_before('Class[profile::htcondor]') }
    end
  end
end
