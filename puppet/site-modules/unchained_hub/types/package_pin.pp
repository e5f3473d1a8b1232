# @summary A wheel of ours named by version and sha256, e.g. jupyterhub-unchained's.
type Unchained_hub::Package_pin = Struct[{
  'version' => Pattern[/\A[0-9]+(\.[0-9]+)*([a-z]+[0-9]*)?(\.dev[0-9]+)?(\+[a-z0-9.]+)?\z/],
  'sha256'  => Pattern[/\A[0-9a-f]{64}\z/],
}]
