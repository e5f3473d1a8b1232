# The hub role: JupyterHub as an unprivileged service with an exact sudo rule,
# configured as JSON from Hiera, secrets kept out of reports.
require 'json'

describe 'site.pp' do
  context 'on the hub' do
    hiera_node 'hub.example.test'
    include_context 'Debian trixie facts'

    config = '/etc/jupyterhub/jupyterhub_config.json'
    sudoers = '/etc/sudoers.d/jupyterhub'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_class('role::hub') }
    it { is_expected.to contain_class('profile::htcondor') }

    it 'runs the hub as its own system account, not root' do
      is_expected.to contain_user('jupyterhub').with_system(true).with_shell('/usr/sbin/nologin')
      is_expected.to contain_file('/etc/systemd/system/jupyterhub.service')
        .with_content(%r{^User=jupyterhub$})
        .with_content(%r{^ExecStart=/opt/jupyterhub/bin/jupyterhub -f #{config}$})
        .that_notifies('Exec[jupyterhub-systemd-reload]')
      is_expected.to contain_service('jupyterhub').with_ensure('running')
    end

    it 'writes the configuration as JSON, merged over the defaults, readable by the hub only' do
      is_expected.to contain_file(config).with_mode('0640').with_owner('root').with_group('jupyterhub')
      resource = catalogue.resource('File', config)
      expect(resource.sensitive_parameters).to include(:content)
      json = JSON.parse(resource[:content])
      expect(json['JupyterHub']['spawner_class']).to eq('unchained')
      expect(json['JupyterHub']['cleanup_servers']).to be(false)
      expect(json['JupyterHub']['bind_url']).to eq('http://:8000')
      expect(json['UnchainedSpawner']['tunnel_python']).to eq('/opt/jupyterhub/bin/python3')
      expect(json['UnchainedSpawner']['environments']['py']['display_name']).to eq('Python')
      expect(json['JupyterHub']['services']).to eq([{ 'name' => 'monitoring',
                                                       'api_token' => 'rspec-fake-service-token-0123456789abcdef' }])
      expect(json['JupyterHub']['load_roles']).to eq([{ 'name' => 'admin', 'services' => ['monitoring'] }])
    end

    it 'gives the hub exact commands as members of the user group only' do
      is_expected.to contain_file(sudoers)
        .with_mode('0440')
        .with_validate_cmd('/usr/sbin/visudo -cf %')
        .with_content(%r{^jupyterhub ALL = \(%jupyterhub-users\) NOPASSWD: UNCHAINED_HUB$})
        .with_content(%r{/usr/bin/condor_rm \^\[0-9\]\+\$, \\$})
        .with_content(%r{^Defaults:jupyterhub !use_pty})
      expect(catalogue.resource('File', sudoers)[:content]).not_to match(%r{ALL\s*=\s*\(ALL|\(root|NOPASSWD: ALL})
    end

    it 'installs the pinned packages into the hub venv once per change' do
      is_expected.to contain_file('/opt/jupyterhub/requirements.txt')
        .with_content(%r{^jupyterhub==6\.1\.1$})
      is_expected.to contain_exec('pip install /opt/jupyterhub')
        .with_unless('/usr/bin/cmp -s /opt/jupyterhub/requirements.txt /opt/jupyterhub/requirements.installed')
        .that_notifies('Service[jupyterhub]')
    end
  end

  context 'on a hub with a certificate' do
    hiera_node 'tlshub.example.test'
    include_context 'Debian trixie facts'

    it 'serves HTTPS with the key readable by the hub only' do
      is_expected.to contain_file('/etc/jupyterhub/tls/hub.key').with_mode('0640').with_group('jupyterhub')
      expect(catalogue.resource('File', '/etc/jupyterhub/tls/hub.key').sensitive_parameters).to include(:content)
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json['JupyterHub']['ssl_cert']).to eq('/etc/jupyterhub/tls/hub.crt')
      expect(json['JupyterHub']['ssl_key']).to eq('/etc/jupyterhub/tls/hub.key')
    end
  end
end
