# A part an HTCondor host plays in the pool.
type Unchained_htcondor::Role = Enum['central_manager', 'submit', 'execute']
