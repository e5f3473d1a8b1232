# The hub's limits on its schedd (unchained_htcondor::notebook_limits), made from the
# same Hiera data as the hub's own: UnchainedSpawner's resource_limits,
# environments and hub_id in unchained_hub::config.
require 'json'
require 'yaml'

describe 'site.pp' do
  conf = '/etc/condor/config.d/55-notebook-limits.conf'
  hub_config = '/etc/jupyterhub/jupyterhub_config.json'

  def content(path)
    catalogue.resource('File', path)[:content]
  end

  # The configuration's lines, with HTCondor's continuations joined.
  def settings(path)
    content(path).gsub(%r{\\\n\s*}, '')
  end

  context 'on the hub' do
    hiera_node 'hub.example.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }

    it "writes the limits into the schedd's configuration, which HTCondor reloads" do
      is_expected.to contain_class('unchained_htcondor::notebook_limits')
      is_expected.to contain_file(conf).that_notifies('Exec[htcondor-reload]')
    end

    it 'puts them in place before the hub starts' do
      is_expected.to contain_file(conf).that_comes_before('Service[jupyterhub]')
    end

    it 'turns GB and hours into MB, KB and seconds the way the hub does (1.5 GB, 2.5 GB, 0.75 h)' do
      expect(settings(conf)).to include(
        'TARGET.RequestCpus <= 8 && TARGET.RequestMemory <= 1536 && TARGET.RequestDisk <= 2621440 && ' \
        'ifThenElse(TARGET.RequestGPUs is undefined, 0, TARGET.RequestGPUs) <= 1',
      ).and include(
        'isInteger(TARGET.UnchainedRuntime) && TARGET.UnchainedRuntime > 0 && TARGET.UnchainedRuntime <= 2700',
      ).and include('at most 2700 (0.75 hours)')
    end

    it "takes the host's name for the hub's id, and tells the hub so" do
      expect(JSON.parse(content(hub_config))['UnchainedSpawner']['hub_id']).to eq('hub.example.test')
      expect(settings(conf)).to include(
        'SUBMIT_REQUIREMENT_NotebookMarker = TARGET.UnchainedHub is undefined || ' \
        'TARGET.UnchainedHub =?= "hub.example.test"',
      )
    end

    it 'offers every environment, hidden ones too (the REST API can choose those)' do
      expect(settings(conf)).to include('identicalMember(TARGET.UnchainedEnvironment, {"py", "py-api"})')
        .and include('as UnchainedEnvironment: py, py-api.')
    end

    it 'checks only marked jobs, and says why in the user\'s words' do
      requirements = settings(conf).lines.grep(%r{^SUBMIT_REQUIREMENT_Notebook[A-Za-z]+ = })
      expect(requirements.length).to eq(4)
      requirements.each { |line| expect(line).to match(%r{= TARGET\.UnchainedHub is undefined \|\| }) }
      expect(settings(conf)).to match(%r{^SUBMIT_REQUIREMENT_NAMES = \$\(SUBMIT_REQUIREMENT_NAMES\) NotebookMarker NotebookResources NotebookRuntime NotebookEnvironment$})
      %w[NotebookMarker NotebookResources NotebookRuntime NotebookEnvironment].each do |name|
        expect(settings(conf)).to match(%r{^SUBMIT_REQUIREMENT_#{name}_REASON = .*jobs of your own\.\"\)?$})
      end
    end

    it "makes a marked job's values plain when it is submitted, and drops a marker that is not set by then" do
      expect(settings(conf)).to include(
        'JOB_TRANSFORM_NAMES = $(JOB_TRANSFORM_NAMES) NotebookUnmarked NotebookValues NotebookGpus NotebookNoGpus',
      )
      expect(content(conf)).to include(
        "JOB_TRANSFORM_NotebookUnmarked @=end\n  REQUIREMENTS UnchainedHub is undefined\n  DELETE UnchainedHub\n@end\n",
      )
      %w[UnchainedHub RequestCpus RequestMemory RequestDisk UnchainedRuntime UnchainedEnvironment RequestGPUs].each do |attr|
        expect(content(conf)).to include("  EVALSET #{attr} #{attr}\n")
      end
    end

    it 'keeps the marker, and from the owner the run time, its start, the hold policy and the requests' do
      expect(settings(conf)).to match(%r{^IMMUTABLE_JOB_ATTRS = \$\(IMMUTABLE_JOB_ATTRS\) UnchainedHub$})
      protected = settings(conf)[%r{^PROTECTED_JOB_ATTRS = \$\(PROTECTED_JOB_ATTRS\) (.*)$}, 1].split
      expect(protected).to contain_exactly('UnchainedRuntime', 'JobCurrentStartDate', 'PeriodicHold',
                                           'PeriodicHoldReason', 'PeriodicHoldSubCode', 'RequestCpus',
                                           'RequestMemory', 'RequestDisk', 'RequestGPUs', 'UnchainedEnvironment')
    end

    it 'holds a marked job past its run time, or past the longest, after the hub has had its turn' do
      expect(settings(conf)).to include(
        'SYSTEM_PERIODIC_HOLD_NotebookRuntime = UnchainedHub isnt undefined && JobStatus == 2 && ' \
        'time() - JobCurrentStartDate > ifThenElse(isInteger(UnchainedRuntime) && UnchainedRuntime < 2700, ' \
        'UnchainedRuntime, 2700) + 120',
      ).and match(%r{^SYSTEM_PERIODIC_HOLD_NAMES = \$\(SYSTEM_PERIODIC_HOLD_NAMES\) NotebookRuntime$})
    end

    it "names the attributes and the hold subcode of the hub's submit description" do
      submit_py = File.read(File.expand_path('../../../hub/unchained_hub/submit.py', SPEC_DIR))
      expect(submit_py[%r{^HUB_ATTRIBUTE = "(\w+)"$}, 1]).to eq('UnchainedHub')
      expect(submit_py[%r{^RUNTIME_ATTRIBUTE = "(\w+)"$}, 1]).to eq('UnchainedRuntime')
      expect(submit_py).to include('f\'+UnchainedEnvironment = "{env.id}"\'')
      subcode = submit_py[%r{^RUNTIME_HOLD_SUBCODE = (\d+)$}, 1]
      expect(settings(conf)).to match(%r{^SYSTEM_PERIODIC_HOLD_NotebookRuntime_SUBCODE = #{subcode}$})
    end
  end

  context 'on a hub with an id of its own' do
    hiera_node 'offlinehub.example.test'
    include_context 'Debian trixie facts'

    it 'holds its jobs to that id' do
      expect(JSON.parse(content(hub_config))['UnchainedSpawner']['hub_id']).to eq('notebooks.example.test')
      expect(settings(conf)).to include('TARGET.UnchainedHub =?= "notebooks.example.test"')
    end
  end

  context "on the lab's hub, with the lab's own data (tests/lab/hiera)" do
    lab_node 'hub.lab.test'
    include_context 'Debian trixie facts'

    spawner = YAML.safe_load(File.read(File.expand_path('../../lab/hiera/nodes/hub.lab.test.yaml', SPEC_DIR)))
                  .dig('unchained_hub::config', 'UnchainedSpawner')
    max = spawner['resource_limits'].transform_values { |limit| limit['max'] }

    it { is_expected.to compile.with_all_deps }

    it "enforces the lab's limits and environments" do
      expect(settings(conf)).to include(
        "TARGET.RequestCpus <= #{max['cpus'].floor} && TARGET.RequestMemory <= #{(max['memory_gb'] * 1024).round} && " \
        "TARGET.RequestDisk <= #{(max['disk_gb'] * 1024 * 1024).round} && " \
        "ifThenElse(TARGET.RequestGPUs is undefined, 0, TARGET.RequestGPUs) <= #{max['gpus'].floor}",
      ).and include("TARGET.UnchainedRuntime <= #{(max['runtime_hours'] * 3600).round})")
        .and include("TARGET.UnchainedHub =?= \"#{spawner['hub_id']}\"")
        .and include("{#{spawner['environments'].keys.map { |id| "\"#{id}\"" }.join(', ')}}")
    end
  end

  context 'on a submit host that is not a hub' do
    hiera_node 'submit.example.test'
    include_context 'Debian trixie facts'

    it 'leaves the schedd to ordinary jobs' do
      is_expected.not_to contain_class('unchained_htcondor::notebook_limits')
      is_expected.not_to contain_file(conf)
    end
  end

  context 'on a hub whose configuration gives no limits' do
    hiera_node 'bad-limits.example.test'
    include_context 'Debian trixie facts'

    it 'fails, naming the settings its schedd needs' do
      is_expected.to compile.and_raise_error(
        %r{unchained_hub::config: UnchainedSpawner needs resource_limits and environments: the hub's schedd enforces the same limits},
      )
    end
  end
end

# The limits are the schedd's: a host without one refuses them.
describe 'unchained_htcondor::notebook_limits', type: :class do
  let(:node) { 'ex1.example.test' }
  let(:params) do
    { hub_id: 'hub.example.test', marker: 'UnchainedHub', runtime_attribute: 'UnchainedRuntime',
      environment_attribute: 'UnchainedEnvironment', environments: ['py'], max_cpus: 1, max_memory_mb: 1024,
      max_disk_kb: 1_048_576, max_gpus: 0, max_runtime: 3600, runtime_hold_subcode: 4701 }
  end

  include_context 'Debian trixie facts'

  it { is_expected.to compile.and_raise_error(%r{this host runs no schedd \(unchained_htcondor::roles is \[execute\]\)}) }
end
