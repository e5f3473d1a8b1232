# The notebook environment's chain on Puppet's side: Lmod and the CVMFS client
# on execute hosts, the publisher (stratum 0) on its own host.
describe 'site.pp' do
  context 'on an execute host' do
    hiera_node 'ex1.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_package('lmod') }

    it 'puts the repository modulefiles first on MODULEPATH' do
      is_expected.to contain_file('/etc/lmod/modulespath')
        .with_content(%r{\A# Managed by Puppet \(profile::lmod\)\.\n/cvmfs/notebooks\.example\.test/modulefiles\n/etc/lmod/modules\n})
    end

    it 'configures the client from Hiera' do
      is_expected.to contain_file('/etc/cvmfs/default.local')
        .with_content(%r{^CVMFS_REPOSITORIES=notebooks\.example\.test$})
        .with_content(%r{^CVMFS_HTTP_PROXY='http://squid1\.example\.test:3128\|http://squid2\.example\.test:3128;DIRECT'$})
        .with_content(%r{^CVMFS_QUOTA_LIMIT=30000$})
        .that_notifies('Exec[cvmfs_config reload]')
      is_expected.to contain_file('/etc/cvmfs/config.d/notebooks.example.test.conf')
        .with_content(%r{^CVMFS_SERVER_URL='http://stratum1-a\.example\.test/cvmfs/@fqrn@;http://stratum1-b\.example\.test/cvmfs/@fqrn@'$})
        .with_content(%r{^CVMFS_PUBLIC_KEY=/etc/cvmfs/keys/notebooks\.example\.test\.pub$})
      is_expected.to contain_file('/etc/cvmfs/keys/notebooks.example.test.pub')
        .with_content(%r{\A-----BEGIN PUBLIC KEY-----\n})
    end

    it 'installs the client and sets up autofs once' do
      is_expected.to contain_package('cvmfs').that_comes_before('File[/etc/cvmfs/default.local]')
      is_expected.to contain_exec('cvmfs_config setup').with_refreshonly(true).that_subscribes_to('Package[cvmfs]')
    end
  end

  context 'on the publisher' do
    hiera_node 'pub.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_class('role::cvmfs_publisher') }
    it { is_expected.not_to contain_class('unchained_htcondor') }
    it { is_expected.to contain_package('cvmfs-server').that_comes_before('Exec[cvmfs_server mkfs notebooks.example.test]') }
    it { is_expected.to contain_package('python3-yaml') }

    it 'creates the repository once, owned by the publishing account' do
      is_expected.to contain_exec('cvmfs_server mkfs notebooks.example.test')
        .with_command(['/usr/bin/cvmfs_server', 'mkfs', '-o', 'cvmfs', 'notebooks.example.test'])
        .with_creates('/etc/cvmfs/repositories.d/notebooks.example.test')
    end

    it 'mounts it again after a reboot' do
      is_expected.to contain_exec('cvmfs_server mount notebooks.example.test')
        .with_unless('/usr/bin/mountpoint -q /cvmfs/notebooks.example.test')
    end
  end
end
