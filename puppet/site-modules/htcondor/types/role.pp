# A part an HTCondor host plays in the pool.
type Htcondor::Role = Enum['central_manager', 'submit', 'execute']
