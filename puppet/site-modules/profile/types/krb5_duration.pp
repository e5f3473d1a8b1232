# @summary A Kerberos time span as krb5.conf and kdc.conf write it, in one
# unit: `30s`, `10m`, `24h`, `7d`.
type Profile::Krb5_duration = Pattern[/\A[1-9][0-9]*[smhd]\z/]
