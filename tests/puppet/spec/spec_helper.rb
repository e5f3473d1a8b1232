# Unit tests of the control repo (puppet/) with rspec-puppet.
#
# Run from tests/puppet:   rspec
#
# Hiera has the same three layers as on a real host:
#   global       spec/fixtures/hiera/hiera.yaml (a made-up site's data)
#   environment  puppet/hiera.yaml and puppet/data (the control repo's own)
#   module       each module's hiera.yaml and data/

# Puppet's own test helper must be loaded before rspec-puppet, which then
# resets Puppet's settings and context around every example.
require 'puppet'
require 'puppet/test/test_helper'
require 'rspec-puppet'

SPEC_DIR     = __dir__
FIXTURES_DIR = File.join(SPEC_DIR, 'fixtures')
CONTROL_REPO = File.expand_path('../../../puppet', SPEC_DIR)
SYSTEM_MODULES = '/usr/share/puppet/modules'.freeze

# rspec-puppet 2.9 compiles in an environment that it builds itself (a
# Puppet::Environments::Static with the modulepath and manifest below). The
# configuration of that environment has no directory (path_to_env is nil),
# so Puppet skips the environment layer of Hiera altogether, whatever
# `environmentpath` says: puppet/hiera.yaml and puppet/data would never be
# read. This loader hands out the same environment, with a configuration
# that points at the control repo, so that Puppet reads its hiera.yaml and
# data exactly as `puppet apply` does with the repo as its environment.
class ControlRepoEnvironments < Puppet::Environments::Static
  # The configuration rspec-puppet uses, but rooted at the control repo.
  class Conf < Puppet::Settings::EnvironmentConf::Static
    attr_reader :path_to_env

    def initialize(environment, path_to_env)
      super(environment, Puppet[:environment_timeout], Puppet[:static_catalogs], nil, Puppet[:rich_data])
      @path_to_env = path_to_env
    end
  end

  def initialize(environment, path_to_env)
    super(environment)
    @path_to_env = path_to_env
  end

  def get_conf(name)
    env = get(name)
    env && Conf.new(env, @path_to_env)
  end
end

RSpec.configure do |c|
  c.module_path   = [File.join(CONTROL_REPO, 'site-modules'), SYSTEM_MODULES].join(File::PATH_SEPARATOR)
  c.manifest      = File.join(CONTROL_REPO, 'manifests', 'site.pp')
  c.hiera_config  = File.join(FIXTURES_DIR, 'hiera', 'hiera.yaml')
  c.strict_variables = true
  # Not a module: rspec-puppet must not create spec/fixtures/modules links.
  c.setup_fixtures = false

  # Runs after rspec-puppet's own before hook, which has just pushed the
  # environment for this example.
  c.before(:each) do
    next unless RSpec::Puppet.rspec_puppet_example?

    env = Puppet.lookup(:current_environment)
    Puppet.push_context(
      { environments: ControlRepoEnvironments.new(env, CONTROL_REPO) },
      'Environment layer of Hiera from the control repo',
    )
  end
end

Dir[File.join(SPEC_DIR, 'support', '*.rb')].sort.each { |f| require f }
