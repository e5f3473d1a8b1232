# Selects a host of the fixture site: its node data is
# spec/fixtures/hiera/data/nodes/CERTNAME.yaml (found through
# trusted.certname, as on a real host) and site.pp is compiled for it.
module HieraNode
  NODES_DIR = File.join(FIXTURES_DIR, 'hiera', 'data', 'nodes')

  def hiera_node(certname)
    data = File.join(NODES_DIR, "#{certname}.yaml")
    raise ArgumentError, "no fixture node data #{data}" unless File.file?(data)

    let(:node) { certname }
  end
end

RSpec.configure { |c| c.extend HieraNode }
