# @summary The notebook server's local venv on execute hosts (unchained_hub::singleuser_venv).
class profile::singleuser_venv {
  include unchained_hub::singleuser_venv
}
