"""What the overlay manager asks for: drones for notebook jobs that wait for
one. Which jobs those are is checked in HTCondor's own ClassAd language in
the lab (tests/lab/test_scale_out.py)."""

import pytest
from unchained_hub import overlay

SITE = overlay.DroneSite(site="siteb", cores=2, memory_mb=2000, walltime_seconds=5 * 3600, shutdown_margin=120,
                         patience=30)


def test_demand_is_one_drone_per_busy_drone_and_waiting_job_in_cores():
    assert SITE.demand(0, 0) == 0
    assert SITE.demand(1, 2) == 6


@pytest.mark.parametrize("bad", [{"site": "Site B"}, {"cores": -1}, {"patience": "60"}])
def test_a_drone_site_is_checked(bad):
    spec = dict(site="siteb", cores=2, memory_mb=2000, walltime_seconds=3600, shutdown_margin=120)
    with pytest.raises(ValueError):
        overlay.DroneSite(**{**spec, **bad})
