"""The site lab: real Debian hosts on one machine, configured by our Puppet roles."""
