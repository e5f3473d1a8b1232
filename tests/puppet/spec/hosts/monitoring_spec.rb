# The monitoring role as the lab gives it (tests/lab/hiera/nodes/mon.lab.test.yaml):
# Debian's Prometheus scraping the hub's metrics over HTTPS with a token of its own.
describe 'site.pp' do
  context "on the lab's monitoring host" do
    lab_node 'mon.lab.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }

    it 'scrapes /hub/metrics over HTTPS, trusting the CA given, with the token from a file' do
      is_expected.to contain_file('/etc/prometheus/prometheus.yml')
        .with_validate_cmd('/usr/bin/promtool check config %')
        .that_notifies('Service[prometheus]')
      config = YAML.safe_load(catalogue.resource('File', '/etc/prometheus/prometheus.yml')[:content])
      job = config['scrape_configs'].find { |j| j['job_name'] == 'jupyterhub' }
      expect(job).to include('scheme' => 'https', 'metrics_path' => '/hub/metrics',
                             'authorization' => { 'credentials_file' => '/etc/prometheus/hub.token' },
                             'tls_config' => { 'ca_file' => '/etc/prometheus/hub-ca.crt' })
      expect(job['static_configs']).to eq([{ 'targets' => ['hub.lab.test:8000'] }])
      expect(config['global']['scrape_interval']).to eq('5s')
    end

    it 'keeps the token Sensitive, readable by Prometheus only' do
      is_expected.to contain_file('/etc/prometheus/hub.token')
        .with_mode('0640').with_owner('root').with_group('prometheus')
        .with_content(sensitive("rspec-fake-metrics-token-0123456789abcdef\n"))
      expect(catalogue.resource('File', '/etc/prometheus/hub.token').sensitive_parameters).to include(:content)
    end
  end

  context "on the lab's hub" do
    lab_node 'hub.lab.test'
    include_context 'Debian trixie facts'

    it 'gives the scrape token a role that may read metrics and nothing else' do
      json = JSON.parse(catalogue.resource('File', '/etc/jupyterhub/jupyterhub_config.json')[:content])
      expect(json['JupyterHub']['load_roles']).to include(
        { 'name' => 'metrics', 'scopes' => ['read:metrics'], 'services' => ['prometheus'] },
      )
      expect(json['JupyterHub']['services']).to include(
        { 'name' => 'prometheus', 'api_token' => 'rspec-fake-metrics-token-0123456789abcdef' },
      )
    end
  end
end
