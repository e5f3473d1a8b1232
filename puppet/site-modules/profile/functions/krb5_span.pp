# @summary A Kerberos time span as kadmin reads it: kadmin takes times as
# dates, so a span is "N seconds" (from now), quoted as one word.
#
# @param duration
#   E.g. `10m`.
# @return [String] E.g. `"600 seconds"`, with the quotes.
function profile::krb5_span(Profile::Krb5_duration $duration) >> String {
  $unit = { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400 }[$duration[-1]]
  "\"${Integer($duration[0, -2]) * $unit} seconds\""
}
