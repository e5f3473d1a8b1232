# @summary The requirement lines of a lock file under profile/files/venvs, without comments.
#
# @param name
#   The lock, e.g. `hub-cp313-x86_64.txt` (made by puppet/lock-venvs).
function profile::venv_lock(String[1] $name) >> Array[Profile::Pinned_requirement] {
  file("profile/venvs/${name}").split("\n").filter |$line| { $line != '' and $line !~ /\A#/ }
}
