# One deb822 apt source, as written to /etc/apt/sources.list.d/NAME.sources.
type Profile::Apt_source = Struct[{
    uris                 => Array[Pattern[/\A(https?|file):\S+\z/], 1],
    suites               => Array[Pattern[/\A\S+\z/], 1],
    Optional[components] => Array[Pattern[/\A[a-z0-9-]+\z/]],
    Optional[signed_by]  => Stdlib::Absolutepath,
    Optional[trusted]    => Boolean,
}]
