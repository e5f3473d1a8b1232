# Every host gets exactly one role, named in Hiera by `unchained::role`, so
# that an admin assigns roles by editing data only.
#
# Hiera's role level interpolates $role. While the role itself is looked up,
# a local $role = '' stands in, so Puppet does not warn that it is undefined.
$role = with('') |$role| { lookup('unchained::role', Optional[String], 'first', undef) }

unless $role =~ Role::Name {
  fail("Hiera key 'unchained::role' for ${trusted['certname']} must be one of ${Role::Name}, got '${role}'")
}

include "role::${role}"
