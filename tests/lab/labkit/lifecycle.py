"""The whole lab up, its state, and down: the steps of `labctl up`, `status`
and `down`, in their order."""

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from . import config, credentials, dist, hub, image, jobimage, network, npm, pool, publish
from .config import LabError
from .hosts import Machine
from .run import say


def machines():
    return [Machine(h) for h in config.HOSTS]


def check_image_in_use(job_image):
    """Refuse to boot hosts on a new image (the hosts', the jobs' or the
    proxy's tarball, which running hosts see in a cache directory that a new
    one replaces) while others run on an old one."""
    recorded = config.STATE_DIR / "image"
    current = f"{image.image_dir()}\n{job_image}\n{npm.cache_dir()}"
    if recorded.exists() and recorded.read_text() != current and any(m.is_running() for m in machines()):
        raise LabError("the lab runs on an older image than its inputs now describe; run `labctl down` first")
    recorded.write_text(current)


def apply_checked(machine):
    status, log = pool.apply(machine)
    if status not in pool.APPLY_OK:
        raise LabError(f"puppet apply on {machine.host.name} failed (exit {status}); log: {log}")
    return status


def up():
    started = time.monotonic()
    image.ensure_image()
    npm.ensure_proxy()
    job_image = jobimage.ensure_job_image()
    check_image_in_use(job_image)
    credentials.ensure_secrets()
    dist.ensure_dist()
    network.ensure_bridge()
    (config.cvmfs_storage() / config.CVMFS_REPO).mkdir(parents=True, exist_ok=True)

    all_machines = machines()
    booted = []
    for m in all_machines:
        network.ensure_host_network(m.host)
        if not m.is_running():
            say(f"booting {m.host.name}")
            m.boot(credentials.secrets_dir_of(m.host))
            booted.append(m)
    for m in booted:
        m.wait_booted()

    # Apply hosts not applied yet, or applied before puppet/ or the lab's
    # Hiera changed. Execute hosts go once the central manager runs: a startd
    # that starts while the CCB is down advertises itself without a CCB
    # address and, measured with HTCondor 23.9, does not register for minutes.
    # Hosts that need no CCB are configured alongside the central manager.
    # The notebook environment is published as soon as the publisher is
    # configured, while the execute hosts are.
    # The submit host (the hub) needs the keytab the KDC exports, and site
    # B's compute node the drone token the central manager issues, so they
    # go with the execute hosts too; the overlay manager last, as it needs
    # the host key of site B's login host.
    pending = [m for m in all_machines if pool.apply_state(m) != "converged"]
    last = [m for m in pending if m.host.name == config.OVERLAY_MANAGER]
    later = [m for m in pending if m not in last and (
        m.host.runs_jobs or m.host.name in (config.SUBMIT_HOST, config.SITE_B_LOGIN))]
    first = [m for m in pending if m not in later and m not in last]
    publisher = Machine(config.host(config.PUBLISHER))
    with ThreadPoolExecutor(1) as background:
        publishing = None
        for group in (first, later, last):
            if group:
                say(f"applying {', '.join(m.host.name for m in group)}")
                with ThreadPoolExecutor(len(group)) as pool_:
                    list(pool_.map(apply_checked, group))
            if publishing is None:
                publishing = background.submit(publish.ensure_published, publisher)
                credentials.ensure_submit_keytabs(Machine(config.host(config.KDC)))
                credentials.ensure_drone_token(all_machines[0])
            elif group is later:
                credentials.ensure_login_host_key(Machine(config.host(config.SITE_B_LOGIN)))
        pool.wait_pool_ready(all_machines[0])
        hub.wait_ready()
        publishing.result()
    say(f"lab ready in {time.monotonic() - started:.1f} s")


def status():
    """Lines that say each host's state and the pool's, one by one as they are learnt."""
    all_machines = machines()
    any_running = False
    for m in all_machines:
        if m.is_running():
            any_running = True
            system = m.exec(["systemctl", "is-system-running"], capture=True).stdout.strip()
            condor = m.exec(["systemctl", "is-active", "condor"], capture=True).stdout.strip()
            yield (f"{m.host.name:4} {m.host.address:12} running  system={system} condor={condor} "
                   f"{pool.apply_state(m)}")
        else:
            yield f"{m.host.name:4} {m.host.address:12} stopped"
    if any_running:
        cm = all_machines[0]
        ready = cm.is_running() and pool.pool_ready(cm)
        yield f"pool: {'ready' if ready else 'not ready'}"


def down():
    all_machines = [Machine(h) for h in config.ALL_HOSTS]
    with ThreadPoolExecutor(len(all_machines)) as pool_:
        list(pool_.map(Machine.shut_down, all_machines))
    for m in all_machines:
        network.remove_host_network(m.host)
        m.remove()
    network.remove_bridge()
    shutil.rmtree(config.STATE_DIR, ignore_errors=True)
    say("lab is down")
