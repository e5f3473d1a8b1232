# The hub role: JupyterHub as an unprivileged service with an exact sudo rule,
# configured as JSON from Hiera, secrets kept out of reports.
require 'json'
require 'yaml'

describe 'site.pp' do
  # The class that a resource of the catalogue is declared in.
  def container_of(type, title)
    catalogue.container_of(catalogue.resource(type, title)).ref
  end

  context 'on the hub' do
    hiera_node 'hub.example.test'
    include_context 'Debian trixie facts'

    config = '/etc/jupyterhub/jupyterhub_config.json'
    sudoers = '/etc/sudoers.d/jupyterhub'
    chp = '/opt/configurable-http-proxy/5.3.0'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_class('role::hub') }
    it { is_expected.to contain_class('profile::htcondor') }

    it 'does the work in private classes, chained install -> config ~> service' do
      is_expected.to contain_class('unchained_hub::install')
        .that_comes_before('Class[unchained_hub::config]')
      is_expected.to contain_class('unchained_hub::config')
        .that_notifies('Class[unchained_hub::service]')
      is_expected.to contain_class('unchained_hub::service')
    end

    it 'restarts the hub when its venv, configuration or unit changes' do
      is_expected.to contain_unchained_hub__python_venv('/opt/jupyterhub').that_notifies('Service[jupyterhub]')
      is_expected.to contain_file(config).that_notifies('Service[jupyterhub]')
      is_expected.to contain_exec('jupyterhub-systemd-reload')
        .with_refreshonly(true)
        .that_notifies('Service[jupyterhub]')
    end

    it 'installs the account, proxy, venv and sudo rule before the configuration and the service' do
      install = 'Class[Unchained_hub::Install]'
      expect(container_of('User', 'jupyterhub')).to eq(install)
      expect(container_of('File', '/var/lib/jupyterhub')).to eq(install)
      expect(container_of('Exec', 'install configurable-http-proxy')).to eq(install)
      expect(container_of('Unchained_hub::Python_venv', '/opt/jupyterhub')).to eq(install)
      expect(container_of('File', sudoers)).to eq(install)
      expect(container_of('File', config)).to eq('Class[Unchained_hub::Config]')
      expect(container_of('Service', 'jupyterhub')).to eq('Class[Unchained_hub::Service]')
    end

    it 'does not restart the hub for a change of the sudo rule, which sudo reads for every command' do
      is_expected.to contain_file(sudoers).that_requires('Package[sudo]')
      is_expected.not_to contain_file(sudoers).that_notifies('Service[jupyterhub]')
    end

    it 'runs the hub as its own system account, not root' do
      is_expected.to contain_user('jupyterhub').with_system(true).with_shell('/usr/sbin/nologin')
      is_expected.to contain_file('/etc/systemd/system/jupyterhub.service')
        .with_content(%r{^User=jupyterhub$})
        .with_content(%r{^ExecStart=/opt/jupyterhub/bin/jupyterhub -f #{config}$})
        .with_content(%r{^RuntimeDirectory=jupyterhub\nRuntimeDirectoryMode=0711$})
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
      expect(json['UnchainedSpawner']['environments']['py-api']['hidden']).to be(true)
      expect(json['JupyterHub']['services']).to eq([{ 'name' => 'monitoring',
                                                       'api_token' => 'rspec-fake-service-token-0123456789abcdef' }])
      expect(json['JupyterHub']['load_roles']).to eq([{ 'name' => 'admin', 'services' => ['monitoring'] }])
    end

    it 'writes the settings Puppet does not know as they are' do
      json = JSON.parse(catalogue.resource('File', config)[:content])
      expect(json['ConfigurableHTTPProxy']['api_url']).to eq('http://127.0.0.1:8001')
      expect(json['UnchainedSpawner']['poll_interval']).to eq(5)
    end

    it "installs the proxy from npm's registry, as root, and no longer Debian's" do
      is_expected.to contain_package('nodejs').with_ensure('installed')
      is_expected.to contain_package('npm').with_ensure('installed')
      is_expected.to contain_package('node-configurable-http-proxy').with_ensure('absent')
      is_expected.to contain_file('/opt/configurable-http-proxy')
        .with_ensure('directory').with_owner('root').with_group('root').with_mode('0755')
      is_expected.to contain_exec('install configurable-http-proxy')
        .with_creates("#{chp}/node_modules/configurable-http-proxy/package.json")
        .with_umask('0022')
        .that_requires(['Package[npm]', 'Package[nodejs]', 'File[/opt/configurable-http-proxy]'])
      command = catalogue.resource('Exec', 'install configurable-http-proxy')[:command]
      # sh -c SCRIPT NAME TMP HOME VERSION TARBALL: the paths are arguments, never shell text.
      expect(command[0, 2]).to eq(['/bin/sh', '-c'])
      expect(command[3..]).to eq(['install-configurable-http-proxy', "#{chp}.new", chp, '5.3.0', ''])
      expect(command[2]).to include('npm install --prefix "$tmp" --omit=dev')
        .and include('"configurable-http-proxy@$version"')
        .and include('--version)')
        .and include('mv "$tmp" "$home"')
      is_expected.not_to contain_file("#{chp}.tar.gz")
      is_expected.to contain_file('/usr/local/bin/configurable-http-proxy')
        .with_ensure('link')
        .with_target("#{chp}/node_modules/.bin/configurable-http-proxy")
    end

    it 'restarts the hub when the proxy changes, and starts this one with Debian\'s node' do
      is_expected.to contain_exec('install configurable-http-proxy').that_notifies('Service[jupyterhub]')
      json = JSON.parse(catalogue.resource('File', config)[:content])
      expect(json['ConfigurableHTTPProxy']['command'])
        .to eq(['/usr/bin/node', "#{chp}/node_modules/configurable-http-proxy/bin/configurable-http-proxy"])
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

    it 'installs the pinned packages into the hub venv once per change, every one by version and hash' do
      content = catalogue.resource('File', '/opt/jupyterhub/requirements.txt')[:content]
      lines = content.lines.map(&:chomp).reject { |l| l.start_with?('#') }
      expect(lines).to include(%r{\Ajupyterhub==6\.1\.1 --hash=sha256:[0-9a-f]{64}\z})
      expect(lines).to include('jupyterhub-unchained==1.0.0 --hash=sha256:' + '1' * 64)
      expect(lines).to all(match(%r{\A[A-Za-z0-9._-]+==[^ ]+ --hash=sha256:[0-9a-f]{64}\z}))
      exec = catalogue.resource('Exec', 'pip install /opt/jupyterhub')
      expect(exec[:command]).to include('--require-hashes --no-deps --only-binary=:all:')
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

    it "mends JupyterHub's spawn page with a template of its own" do
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json['JupyterHub']['template_paths']).to eq(['/etc/jupyterhub/templates'])
      is_expected.to contain_file('/etc/jupyterhub/templates')
        .with(ensure: 'directory', recurse: true, purge: true, group: 'jupyterhub',
              source: 'puppet:///modules/unchained_hub/templates')
        .that_notifies('Class[unchained_hub::service]')
    end
  end

  context 'on a hub that cannot reach the npm registry' do
    hiera_node 'offlinehub.example.test'
    include_context 'Debian trixie facts'

    chp = '/opt/configurable-http-proxy/5.3.1'

    it { is_expected.to compile.with_all_deps }

    it 'unpacks the tarball again whenever its content differs from what was unpacked' do
      is_expected.to contain_file("#{chp}.tar.gz")
        .with_source('/srv/packages/configurable-http-proxy-5.3.1.tar.gz')
        .with_owner('root').with_mode('0644')
      is_expected.to contain_exec('install configurable-http-proxy')
        .with_unless([['/usr/bin/sha256sum', '--check', '--status', "#{chp}/.source.sha256"]])
        .with_creates(nil)
        .that_requires("File[#{chp}.tar.gz]")
        .that_notifies('Service[jupyterhub]')
      resource = catalogue.resource('Exec', 'install configurable-http-proxy')
      expect(resource[:command][3..]).to eq(['install-configurable-http-proxy', "#{chp}.new", chp, '5.3.1',
                                             "#{chp}.tar.gz"])
      expect(resource[:command][2]).to include('tar -xzf "$tarball" -C "$tmp" --no-same-owner')
        .and include('sha256sum "$tarball" > "$tmp/.source.sha256"')
      is_expected.not_to contain_package('npm')
    end

    it "lets the site's config start the proxy its own way" do
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json['ConfigurableHTTPProxy']['command']).to eq(['/usr/local/bin/configurable-http-proxy'])
    end
  end

  context "on the lab's hub, with the lab's own data (tests/lab/hiera)" do
    let(:node) { 'hub.lab.test' }
    let(:hiera_config) { File.join(FIXTURES_DIR, 'lab', 'hiera.yaml') }

    include_context 'Debian trixie facts'

    lab_data = File.expand_path('../../lab/hiera/nodes/hub.lab.test.yaml', SPEC_DIR)

    it { is_expected.to compile.with_all_deps }

    it "unpacks the proxy labctl builds, the version the lab's npm lock pins" do
      pinned = JSON.parse(File.read(File.expand_path('../../lab/npm/package.json', SPEC_DIR)))
                   .dig('dependencies', 'configurable-http-proxy')
      chp = "/opt/configurable-http-proxy/#{pinned}"
      is_expected.to contain_file("#{chp}.tar.gz")
        .with_source('/srv/unchained-lab/npm/configurable-http-proxy.tar.gz')
      expect(catalogue.resource('Exec', 'install configurable-http-proxy')[:command][6]).to eq(pinned)
    end

    it 'writes every setting the lab gives, unchanged' do
      lab_config = YAML.safe_load(File.read(lab_data)).fetch('unchained_hub::config')
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      lab_config.each do |section, settings|
        settings.each do |key, value|
          expect(json[section][key]).to eq(value), "#{section}.#{key}"
        end
      end
    end

    it "runs the idle culler as a service of the hub's, with scopes for frank's servers only" do
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      culler = json['JupyterHub']['services'].find { |s| s['name'] == 'idle-culler' }
      expect(culler['command']).to eq(['/opt/jupyterhub/bin/python3', '-m', 'jupyterhub_idle_culler',
                                       '--timeout=60', '--cull-every=10', '--max-age=0'])
      expect(culler).not_to have_key('api_token')
      role = json['JupyterHub']['load_roles'].find { |r| r['name'] == 'idle-culler' }
      expect(role['services']).to eq(['idle-culler'])
      expect(role['scopes']).to eq(['list:users!user=frank', 'read:users:activity!user=frank',
                                    'read:servers!user=frank', 'delete:servers!user=frank'])
      expect(json['JupyterHub']['load_roles'].find { |r| r['name'] == 'admin' }['services']).to eq(['lab-admin'])
    end
  end
end

# The hub's install, config, schedd and service classes are private: only
# unchained_hub declares them. (On a host without the hub role, which
# would declare them first.)
%w[install config schedd service].each do |part|
  describe "unchained_hub::#{part}", type: :class do
    let(:node) { 'submit.example.test' }

    include_context 'Debian trixie facts'

    it { is_expected.to compile.and_raise_error(%r{Class unchained_hub::#{part} is private}) }
  end
end
