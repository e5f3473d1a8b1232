# @summary A Kerberos realm name as sites write it: upper case, dots.
type Profile::Krb5_realm = Pattern[/\A[A-Z0-9]([A-Z0-9.-]*[A-Z0-9])?\z/]
