# @summary A pip requirement pinned by version and hash: `name==version --hash=sha256:HEX`.
#
# The only form unchained_hub::python_venv installs (pip's --require-hashes mode), so
# that no package is taken by name from whatever index answers.
type Unchained_hub::Pinned_requirement = Pattern[/\A[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!]+( --hash=sha256:[0-9a-f]{64})+\z/]
