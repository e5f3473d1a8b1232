# Selects a host of the lab with the lab's own data (tests/lab/hiera, read
# where it is) and fake secrets shaped like labctl's (spec/fixtures/lab):
# what the lab asks of puppet/ must compile.
module LabNode
  def lab_node(certname)
    let(:node) { certname }
    let(:hiera_config) { File.join(FIXTURES_DIR, 'lab', 'hiera.yaml') }
  end
end

RSpec.configure { |c| c.extend LabNode }
