# @summary A release of configurable-http-proxy that routes to Unix sockets:
# `MAJOR.MINOR.PATCH`, 5.0.0 or later (Debian's 4.5 does not).
type Unchained_hub::Proxy_version = Pattern[/\A([5-9]|[1-9][0-9]+)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\z/]
