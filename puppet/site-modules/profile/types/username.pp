# A local user name: lower case, starting with a letter, at most 32 characters.
type Profile::Username = Pattern[/\A[a-z][a-z0-9_-]{0,31}\z/]
