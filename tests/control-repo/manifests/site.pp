# Each host's classes, from Hiera: this site's way, not the bundle's roles.
lookup('classes', Array[String[1]], 'unique', []).include
