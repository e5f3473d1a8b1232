# @summary A local user name: lower case, starting with a letter, at most 32 characters.
#
# The one rule for user names: the hub's Python check
# (`unchained_hub.contract.USERNAME`) must accept exactly the same names.
type Unchained_hub::Username = Pattern[/\A[a-z][a-z0-9_-]{0,31}\z/]
