# Wrong Hiera data stops the compilation with a message that names the key.
describe 'site.pp' do
  {
    'bad-interval.example.test' => %r{parameter 'negotiator_interval' expects an Integer value},
    'bad-port.example.test'     => %r{parameter 'shared_port' expects .*Integer\[1024, 65535\]},
    'bad-role.example.test'     => %r{Hiera key 'unchained::role' .* got 'gateway'},
    'bad-cvmfs.example.test'    => %r{parameter 'repositories' .*server_urls},
    'bad-bind.example.test'     => %r{parameter 'container_binds' .*Unchained_htcondor::Bind_path},
    'bad-realm.example.test'    => %r{parameter 'realm' expects a match for Profile::Krb5_realm},
    'bad-tls.example.test'      => %r{tls_certificate and tls_key go together},
    'bad-hubconfig.example.test' =>
      %r{entry 'unchained_hub::config' entry 'JupyterHub' entry 'allow_named_servers' expects a Boolean value},
    'bad-environment.example.test' =>
      %r{entry 'UnchainedSpawner' entry 'environments' entry 'py' entry 'hidden' expects a Boolean value},
    'bad-kerberos.example.test' => %r{user_kerberos needs unchained_htcondor::kerberos_realm and unchained_htcondor::kerberos_keytab},
    'bad-proxy-version.example.test' => %r{Unchained_hub\]: parameter 'proxy_version' expects a match for Unchained_hub::Proxy_version},
    'bad-proxy-source.example.test' => %r{Unchained_hub\]: parameter 'proxy_source' expects .*Pattern},
    'bad-requirement.example.test' =>
      %r{Unchained_hub\]: parameter 'requirements' index 0 expects a match for Unchained_hub::Pinned_requirement},
    'bad-knob.example.test'     => %r{parameter 'knobs' entry 'Site' expects an Unchained_htcondor::Knob_value},
    'bad-additions.example.test' =>
      %r{entry 'UnchainedSpawner' entry 'job_additions' entry 'accounting_groups' entry 'default' expects a match},
    'bad-args.example.test' => %r{entry 'Spawner' entry 'args' index 0 expects a match},
    'bad-krb5.example.test' => %r{manage_krb5_conf needs profile::kerberos::client::kdcs, profile::kerberos::client::admin_server, profile::kerberos::client::domain},
    'no-package-pin.example.test' => %r{unchained::package is not set: give the version and sha256},
  }.each do |certname, message|
    context "on #{certname}" do
      hiera_node certname
      include_context 'Debian trixie facts'

      it { is_expected.to compile.and_raise_error(message) }
    end
  end
end
