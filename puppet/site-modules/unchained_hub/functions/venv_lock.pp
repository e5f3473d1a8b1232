# @summary The requirement lines of a lock file under unchained_hub/files/venvs, without comments.
#
# @param name
#   The lock, e.g. `hub-cp313-x86_64.txt` (made by puppet/lock-venvs).
function unchained_hub::venv_lock(String[1] $name) >> Array[Unchained_hub::Pinned_requirement] {
  file("unchained_hub/venvs/${name}").split("\n").filter |$line| { $line != '' and $line !~ /\A#/ }
}
