# The roles a host can have; see the classes of this module.
type Role::Name = Enum['central_manager', 'hub', 'submit', 'execute', 'cvmfs_publisher', 'kdc', 'monitoring',
  'overlay_manager', 'slurm_controller', 'slurm_compute']
