# profile::apt, profile::pip and profile::accounts with the fixture site's data
# (spec/fixtures/hiera/data/common.yaml).
describe 'site.pp' do
  context 'on a submit host' do
    hiera_node 'submit.example.test'
    include_context 'Debian trixie facts'

    describe 'profile::apt' do
      sources = '/etc/apt/sources.list.d/example-mirror.sources'

      it 'writes the source in deb822 form' do
        is_expected.to contain_file(sources).with_mode('0644').with_content(<<~DEB822)
          # Managed by Puppet (profile::apt).
          Types: deb
          URIs: http://mirror.example.test/debian
          Suites: trixie trixie-updates
          Components: main
          Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
        DEB822
      end

      it { is_expected.to contain_file(sources).that_notifies('Exec[profile-apt-update]') }

      it 'purges the sources Puppet does not manage' do
        is_expected.to contain_file('/etc/apt/sources.list.d')
          .with_ensure('directory')
          .with_recurse(true)
          .with_purge(true)
          .that_notifies('Exec[profile-apt-update]')
        is_expected.to contain_file('/etc/apt/sources.list')
          .with_ensure('absent')
          .that_notifies('Exec[profile-apt-update]')
      end

      it do
        is_expected.to contain_exec('profile-apt-update')
          .with_command(['/usr/bin/apt-get', 'update'])
          .with_refreshonly(true)
          .that_comes_before('Package[htcondor]')
      end
    end

    describe 'profile::pip' do
      it 'points pip at the wheelhouse only' do
        is_expected.to contain_file('/etc/pip.conf').with_mode('0644').with_content(<<~CONF)
          # Managed by Puppet (profile::pip).
          [global]
          find-links = /srv/wheels
          no-index = true
        CONF
      end

      it { is_expected.to contain_package('python3-venv').that_requires('Exec[profile-apt-update]') }
    end

    describe 'profile::accounts' do
      { 'alice' => 2001, 'bob' => 2002 }.each do |name, id|
        it "gives #{name} a user and a group with id #{id}" do
          is_expected.to contain_group(name).with_gid(id)
          is_expected.to contain_user(name)
            .with_uid(id)
            .with_gid(id)
            .with_home("/home/#{name}")
            .with_managehome(true)
            .that_requires("Group[#{name}]")
        end
      end

      it { is_expected.to contain_user('alice').with_comment('Alice (test user)') }
      it { is_expected.to have_user_resource_count(2) }
      it { is_expected.to have_group_resource_count(2) }
    end
  end
end
