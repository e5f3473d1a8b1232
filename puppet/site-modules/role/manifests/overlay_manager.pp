# @summary The overlay manager: COBalD/TARDIS, which starts drones at other
# sites when notebook jobs wait for one, and lets them go.
class role::overlay_manager {
  include profile::base
  include profile::overlay_manager
}
