# Facts of a Debian 13 (trixie) host, as Facter 4 reports them, for the host
# named by `node`.
RSpec.shared_context 'Debian trixie facts' do
  let(:facts) do
    hostname, domain = node.split('.', 2)
    {
      kernel: 'Linux',
      os: {
        name: 'Debian',
        family: 'Debian',
        architecture: 'amd64',
        hardware: 'x86_64',
        release: { major: '13', minor: '1', full: '13.1' },
        distro: {
          id: 'Debian',
          codename: 'trixie',
          description: 'Debian GNU/Linux 13 (trixie)',
          release: { major: '13', minor: '1', full: '13.1' },
        },
        selinux: { enabled: false },
      },
      networking: {
        fqdn: node,
        hostname: hostname,
        domain: domain,
        ip: '192.0.2.10',
        primary: 'eth0',
        interfaces: { eth0: { ip: '192.0.2.10' }, lo: { ip: '127.0.0.1' } },
      },
      processors: { count: 2 },
      path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      service_provider: 'systemd',
    }
  end
end
