"""The overlay manager's COBalD controller: sets the demand for a site's
drones from the queue (see `overlay.py`) every `interval` seconds.

In the overlay manager's COBalD configuration (profile::overlay_manager):

    pipeline:
      - __type__: unchained_hub.overlay_controller.WaitingNotebooks
        site: siteb
        ...
      - !Limiter {minimum: 0, maximum: ...}
      - __type__: unchained_hub.overlay_controller.drone_pool
        interval: 10

A query that fails leaves the demand as it was, and says so in the log
(once, until something changes).
"""

import logging

import trio
from cobald.composite.factory import FactoryPool
from cobald.daemon import service
from cobald.interfaces import Controller
from tardis.resources.poolfactory import create_composite_pool

from .overlay import CondorError, DroneSite, query_demand

log = logging.getLogger("unchained.overlay")


@service(flavour=trio)
class WaitingNotebooks(Controller):
    def __init__(self, target, site, cores, memory_mb, walltime_minutes, shutdown_margin, patience=60,
                 interval=10, stale_after=300, other_drone_sites=(), condor_bin_dir="/usr/bin"):
        super().__init__(target=target)
        self.drone_site = DroneSite(site=site, cores=int(cores), memory_mb=int(memory_mb),
                                    walltime_seconds=int(walltime_minutes) * 60,
                                    shutdown_margin=int(shutdown_margin), patience=int(patience),
                                    stale_after=int(stale_after),
                                    other_drone_sites=tuple(other_drone_sites))
        self.interval = interval
        self.condor_bin_dir = condor_bin_dir
        self._last = None

    async def run(self):
        while True:
            await self.regulate()
            await trio.sleep(self.interval)

    async def regulate(self):
        try:
            busy, waiting, demand = await trio.to_thread.run_sync(query_demand, self.drone_site,
                                                                  self.condor_bin_dir)
        except (CondorError, OSError) as e:
            # Said once, not at every look.
            if str(e) != self._last:
                log.warning("site %s: demand left at %s: %s", self.drone_site.site, self.target.demand, e)
                self._last = str(e)
            return
        if (busy, waiting) != self._last:
            log.info("site %s: %d drone(s) busy, %d notebook job(s) waiting: demand %d cores",
                     self.drone_site.site, busy, waiting, demand)
            self._last = (busy, waiting)
        self.target.demand = demand


def drone_pool(interval=30, configuration=None):
    """TARDIS's pool of drones (its `create_composite_pool`), acting on a new
    demand every `interval` seconds. TARDIS builds each site's pool as a
    COBalD FactoryPool with its default interval, 30 s, and offers no setting:
    a notebook would wait up to that long before its drone is even submitted."""
    pool = create_composite_pool(configuration)
    for factory in _factory_pools(pool):
        factory.interval = interval
    return pool


def _factory_pools(pool):
    """The FactoryPools in a tree of COBalD composites (`children`) and
    decorators (`target`); a FactoryPool's children are drones."""
    if isinstance(pool, FactoryPool):
        yield pool
        return
    below = list(getattr(pool, "children", ()))
    if getattr(pool, "target", None) is not None:
        below.append(pool.target)
    for child in below:
        yield from _factory_pools(child)
