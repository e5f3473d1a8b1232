# unchained_htcondor::package_source: upstream on Debian (compiled only; the lab
# installs Debian's package).
describe 'site.pp' do
  context 'on an execute host using HTCondor\'s repository' do
    hiera_node 'upstream.example.test'
    include_context 'Debian trixie facts'

    sources = '/etc/apt/sources.list.d/htcondor.sources'

    it { is_expected.to compile.with_all_deps }

    it 'adds HTCondor\'s apt repository for this release' do
      is_expected.to contain_file(sources)
        .with_content(%r{^URIs: https://research\.cs\.wisc\.edu/htcondor/repo/debian/24\.x$})
        .with_content(%r{^Suites: trixie$})
        .with_content(%r{^Signed-By: /etc/apt/keyrings/htcondor\.asc$})
        .that_requires('File[/etc/apt/keyrings/htcondor.asc]')
        .that_notifies('Exec[htcondor-apt-update]')
    end

    it do
      is_expected.to contain_file('/etc/apt/keyrings/htcondor.asc')
        .with_source('https://research.cs.wisc.edu/htcondor/repo/keys/HTCondor-24.x-Key')
    end

    it 'installs the package condor once the repository is known' do
      is_expected.to contain_package('htcondor')
        .with_name('condor')
        .that_requires('Exec[htcondor-apt-update]')
    end
  end
end
