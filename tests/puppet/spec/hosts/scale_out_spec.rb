# Site B of the lab (a Slurm cluster whose jobs are drones of the pool) and
# what site A gives drones: the lab's own data must compile, and say what
# tests/lab/test_scale_out.py relies on.
describe 'site.pp' do
  config_d = '/etc/condor/config.d'

  context 'on sbctl.siteb.test (role slurm_controller, the login host)' do
    lab_node 'sbctl.siteb.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_service('slurmctld').with_ensure('running') }
    it { is_expected.to contain_service('ssh').with_ensure('running') }

    it 'names its nodes and partition in slurm.conf, without cgroups in the lab' do
      is_expected.to contain_file('/etc/slurm/slurm.conf')
        .with_content(%r{^SlurmctldHost=sbctl\(10\.78\.0\.10\)$})
        .with_content(%r{^NodeName=sbn1 NodeAddr=10\.78\.0\.21 CPUs=2 })
        .with_content(%r{^NodeName=sbn10 NodeAddr=10\.78\.0\.30 CPUs=2 })
        .with_content(%r{^PartitionName=drones Nodes=sbn1,sbn2,sbn3,sbn4,sbn5,sbn6,sbn7,sbn8,sbn9,sbn10 MaxTime=8:30:00 Default=YES State=UP$})
        .with_content(%r{^ProctrackType=proctrack/linuxproc$})
      is_expected.to contain_file('/etc/slurm/cgroup.conf').with_content(%r{^CgroupPlugin=disabled$})
    end

    it 'keeps the munge key to munge' do
      is_expected.to contain_file('/etc/munge/munge.key').with(owner: 'munge', mode: '0600', show_diff: false)
    end

    it 'lets the overlay manager in as the drone account, which can submit the drone script' do
      is_expected.to contain_user('drone').with_uid(3900)
      is_expected.to contain_file('/home/drone/.ssh/authorized_keys')
        .with_content(%r{^ssh-ed25519 \S+ overlay-manager@lab\.test$}).with_mode('0600')
      is_expected.to contain_file('/usr/libexec/unchained-drone/drone').with_mode('0755')
    end

    it 'holds no drone token and no part of site A' do
      is_expected.not_to contain_file('/etc/unchained-drone/tokens.d/drone')
      is_expected.not_to contain_file('/etc/condor/passwords.d/POOL')
      is_expected.not_to contain_user('alice')
      is_expected.not_to contain_file('/etc/krb5.conf')
    end
  end

  context 'on sbn1.siteb.test (role slurm_compute)' do
    lab_node 'sbn1.siteb.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_service('slurmd').with_ensure('running') }

    it 'runs no HTCondor of its own and holds no pool key' do
      is_expected.to contain_service('condor').with(ensure: 'stopped', enable: false)
      is_expected.not_to contain_file('/etc/condor/passwords.d/POOL')
      is_expected.not_to contain_class('unchained_htcondor')
    end

    it "gives the drone token to the drone account alone" do
      is_expected.to contain_file('/etc/unchained-drone/tokens.d/drone')
        .with(owner: 'drone', mode: '0400', show_diff: false)
      is_expected.to contain_file('/etc/unchained-drone/tokens.d').with(owner: 'drone', mode: '0500', purge: true)
    end

    it 'configures drones that join through the CCB as site B drones' do
      is_expected.to contain_file('/etc/unchained-drone/condor_config')
        .with_content(%r{^CONDOR_HOST = cm\.lab\.test$})
        .with_content(%r{^CCB_ADDRESS = \$\(COLLECTOR_HOST\)$})
        .with_content(%r{^UnchainedSite = "siteb"$})
        .with_content(%r{^UnchainedDrone = true$})
        .with_content(%r{^SEC_TOKEN_DIRECTORY = /etc/unchained-drone/tokens\.d$})
        .with_content(%r{^STARTD_NOCLAIM_SHUTDOWN = 20$})
        .with_content(%r{^SSH_TO_JOB_SSHD = /usr/libexec/unchained-drone/job-sshd$})
        .with_content(%r{^SINGULARITY_BIND_EXPR = "/cvmfs,/etc/lmod/modulespath"$})
    end

    it "lets a job's tunnel in as soon as on the pool's own workers" do
      is_expected.to contain_file('/etc/unchained-drone/condor_config')
        .with_content(%r{^STARTER_INITIAL_UPDATE_INTERVAL = 1$})
        .with_content(%r{^STARTER_UPDATE_INTERVAL = 2$})
    end

    it 'keeps drones off /tmp, where a job container has its own' do
      is_expected.to contain_file('/var/lib/unchained-drone').with(owner: 'drone', mode: '0700')
    end
  end

  context 'on cm.lab.test (the central manager site B joins)' do
    lab_node 'cm.lab.test'
    include_context 'Debian trixie facts'

    it 'lets site B drones advertise, only as site B drones' do
      is_expected.to contain_file("#{config_d}/50-central-manager.conf")
        .with_content(%r{^ALLOW_ADVERTISE_STARTD = \$\(ALLOW_DAEMON\) drone-siteb@lab\.test$})
        .with_content(%r{^ALLOW_ADVERTISE_MASTER = \$\(ALLOW_DAEMON\) drone-siteb@lab\.test$})
        .with_content(%r{^COLLECTOR_REQUIREMENTS = \(AuthenticatedIdentity =!= "drone-siteb@lab\.test" \|\| MyType =!= "Machine" \|\| \(UnchainedDrone =\?= true && UnchainedSite =\?= "siteb"\)\)$})
    end
  end

  context 'on hub.lab.test (the submit host)' do
    lab_node 'hub.lab.test'
    include_context 'Debian trixie facts'

    it "lets users' condor_ssh_to_job take reverse connections through the shared port" do
      is_expected.to contain_file('/etc/tmpfiles.d/unchained-htcondor-tools.conf')
        .with_content(%r{^d /var/lock/condor/daemon_sock 1777 condor condor -$})
    end
  end

  context 'on ex1.lab.test (a worker of site A)' do
    lab_node 'ex1.lab.test'
    include_context 'Debian trixie facts'

    it 'says it is at site A' do
      is_expected.to contain_file("#{config_d}/50-execute.conf").with_content(%r{^UnchainedSite = "lab"$})
      is_expected.not_to contain_file('/etc/tmpfiles.d/unchained-htcondor-tools.conf').with_ensure('file')
    end
  end
end

describe 'site.pp' do
  context 'on om.lab.test (role overlay_manager)' do
    lab_node 'om.lab.test'
    include_context 'Debian trixie facts'

    it { is_expected.to compile.with_all_deps }
    it { is_expected.to contain_service('cobald').with(ensure: 'running', enable: true) }

    it 'installs COBalD, the pinned cobald-tardis wheel and our controller by hash' do
      requirements = catalogue.resource('Unchained_hub::Python_venv', '/opt/unchained/overlay')[:requirements]
      expect(requirements).to include(%r{\Acobald==0\.14\.0 --hash=sha256:[0-9a-f]{64}\z})
      expect(requirements).to include("cobald-tardis==0.9.0 --hash=sha256:#{'1' * 64}")
      expect(requirements).to include(%r{\Ajupyterhub-unchained==})
    end

    it 'asks the queue for demand and submits exclusive drones to site B by ssh' do
      is_expected.to contain_file('/etc/cobald/overlay.yaml')
        .with_content(%r{^  - __type__: unchained_hub\.overlay_controller\.WaitingNotebooks$})
        .with_content(%r{^  - __type__: unchained_hub\.overlay_controller\.drone_pool\n    interval: 2$})
        .with_content(%r{^    maximum: 20$})
        .with_content(%r{^      host: sbctl\.siteb\.test$})
        .with_content(%r{^      known_hosts: /etc/cobald/known_hosts$})
        .with_content(%r{^        StartupCommand: /usr/libexec/unchained-drone/drone$})
        .with_content(%r{^            exclusive: null$})
      is_expected.to contain_file('/etc/cobald/known_hosts').with_content(%r{^sbctl\.siteb\.test ssh-ed25519 \S+$})
    end

    it 'keeps its ssh key and its read-only token to the cobald account' do
      is_expected.to contain_file('/var/lib/cobald/.ssh/id_ed25519').with(owner: 'cobald', mode: '0600', show_diff: false)
      is_expected.to contain_file('/etc/cobald/condor/tokens.d/pool').with(owner: 'cobald', mode: '0400', show_diff: false)
      is_expected.to contain_service('condor').with(ensure: 'stopped', enable: false)
      is_expected.not_to contain_file('/etc/condor/passwords.d/POOL')
    end
  end
end
