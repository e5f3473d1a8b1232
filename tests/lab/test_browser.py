"""The hub as a user meets it, in a real browser: Debian's Chromium, headless,
driven by Selenium (Debian's python3-selenium and chromium-driver).

The browser trusts the hub's certificate by its public key (Chromium's
--ignore-certificate-errors-spki-list names exactly that key), the way a
user's browser trusts the site's CA. Screenshots go to tests/artifacts/.
"""

import base64
import hashlib
import re
import subprocess
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hubclient import Hub, job_of, left_queue
from labtest import LAB_DIR, PASSWORDS, wait_for

selenium = pytest.importorskip("selenium", reason="python3-selenium is missing: run tests/install-host-packages")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ARTIFACTS = LAB_DIR.parent / "artifacts" / "browser"
NOTEBOOK = "where-am-i.ipynb"
# The example of the original talk: numpy, matplotlib inline, an ipywidgets slider.
TALK_NOTEBOOK = "sine.ipynb"
TALK_CODE = """%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
from ipywidgets import interact

x = np.linspace(0, 2 * np.pi, 400)

@interact(frequency=(1, 10))
def sine(frequency=1):
    plt.plot(x, np.sin(frequency * x))
    plt.title(f"sin({frequency} x)")
    plt.show()
"""


def hub_spki_pin(lab):
    """base64 SHA-256 of the hub certificate's public key, as Chromium wants it."""
    cert = lab.exec("hub", "cat", "/etc/jupyterhub/tls/hub.crt").stdout
    pubkey = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=cert.encode(), capture_output=True,
                            check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, capture_output=True,
                         check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def browser_factory(lab, tmp_path_factory):
    pin = hub_spki_pin(lab)
    drivers = []

    def new_browser():
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,900", f"--ignore-certificate-errors-spki-list={pin}",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
            options.add_argument(flag)
        # Kept for a failed test's artifacts (conftest.save_browsers).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        return driver

    yield new_browser
    for driver in drivers:
        driver.quit()


@pytest.fixture
def browser(browser_factory):
    """A browser of the test's own, closed after it (an open JupyterLab would
    go on polling a server the test has stopped)."""
    driver = browser_factory()
    yield driver
    driver.quit()


def log_in(driver, url, user, password):
    driver.get(url + "hub/login")
    driver.find_element(By.ID, "username_input").send_keys(user)
    driver.find_element(By.ID, "password_input").send_keys(password)
    submit = driver.find_element(By.ID, "login_submit")
    submit.click()
    # The hub's answer (a redirect, or the form again with an error) replaces
    # the page; going on before that would race the login.
    wait(driver).until(EC.staleness_of(submit))


def wait(driver, seconds=30):
    return WebDriverWait(driver, seconds)


def test_a_wrong_password_is_refused_on_the_login_page(lab, browser):
    driver = browser
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", "not-her-password")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login_error, p.login_error")))
    assert "Invalid username or password" in driver.page_source
    assert "jupyterhub-hub-login" not in {c["name"] for c in driver.get_cookies()}


def test_alice_logs_in_and_the_form_refuses_an_out_of_range_value(lab, browser):
    driver = browser
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", PASSWORDS["alice"])
    driver.get(url + "hub/spawn/alice/form")
    form = wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-cpus")))
    page = driver.page_source
    assert "Small: 1 core, 0.5 GB" in page and "Medium: 2 cores, 1 GB" in page  # the admin's presets
    assert re.search(r"CPU cores?, 1 to 2", page), "the limits are shown"
    # The lab's test and bench environments are hidden: the form offers what a site would.
    offered = [o.text for o in Select(driver.find_element(By.ID, "unchained-environment")).options]
    assert offered == ["JupyterLab 2026.11 (CVMFS, in the job image)"]
    # A crafted value past the browser's own check: the hub refuses it, naming the field.
    driver.execute_script("arguments[0].removeAttribute('max'); arguments[0].value = '64';", form)
    form.submit()
    wait(driver).until(lambda d: "maximum" in d.page_source)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "spawn-form-refused.png"))
    assert "CPU cores: 64 is more than this site's maximum of 2." in driver.page_source, driver.page_source[-2000:]


def test_a_valid_choice_shows_progress_then_jupyterlab(lab, browser):
    driver = browser
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", PASSWORDS["alice"])
    driver.get(url + "hub/spawn/alice/browser")
    wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-cpus")))
    started = time.monotonic()
    driver.find_element(By.CSS_SELECTOR, "form input[type=submit], form button[type=submit]").click()
    messages = []
    try:
        wait(driver, 120).until(lambda d: _progress(d, messages) or "/lab" in d.current_url)
        # Loaded: the splash screen is gone and the launcher is shown.
        wait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Launcher")))
        wait(driver, 60).until(EC.invisibility_of_element_located((By.ID, "jupyterlab-splash")))
        seconds = time.monotonic() - started
        print(f"\nclick start -> JupyterLab loaded: {seconds:.2f} s; progress seen: {messages}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "jupyterlab.png"))
        assert any(re.search(r"Submitted job \d+\.0", m) for m in messages), messages
        assert any(re.search(r"Job \d+\.0 is running on ex[12]\.lab\.test", m) for m in messages), messages
    finally:
        hub = Hub(url, lab.labctl("hub-token").stdout.strip())
        if hub.server("alice", "browser") is not None:
            hub.stop("alice", "browser")


def _progress(driver, messages):
    """Record the spawn page's event log (hidden until opened, so its text
    content); true once it says the server is ready."""
    try:
        for element in driver.find_elements(By.CSS_SELECTOR, ".progress-log-event"):
            text = (element.get_attribute("textContent") or "").strip()
            if text and text not in messages:
                messages.append(text)
    except StaleElementReferenceException:
        return False  # the page went on to JupyterLab while being read
    return any("ready" in m.lower() for m in messages)


@dataclass(frozen=True)
class Place:
    """Where alice's server runs in the browser tests: the preset she picks,
    the hosts it may land on, and what the spawn page says on the way."""
    name: str
    preset: str
    hosts: str
    says: tuple


PLACES = (
    # The small preset leaves room for a desktop; any site, so one of site A's workers.
    Place("site A", "small", r"ex[12]\.lab\.test", (r"Job \d+\.0 is running on ex[12]\.lab\.test at site A",)),
    # A drone that the overlay manager starts for her at site B.
    Place("site B", "site-b", r"sbn\d+\.siteb\.test",
          (r"Job \d+\.0 is waiting for a worker at site B; one is being started for it",
           r"Job \d+\.0 is running on sbn\d+\.siteb\.test at site B; connecting to it")),
)


@pytest.fixture(scope="module", params=PLACES, ids=[p.name.replace(" ", "-") for p in PLACES])
def alice_lab(request, lab, browser_factory):
    """alice's browser with JupyterLab open on her server 'e2e', at each place
    in turn: the tests that take this fixture run at site A, then again on a
    drone at site B. A notebook of an earlier run is removed."""
    place = request.param
    lab.exec("hub", "rm", "-f", f"jupyter-e2e/{NOTEBOOK}", user="alice")
    driver = browser_factory()
    url = lab.labctl("url").stdout.strip()
    hub = Hub(url, lab.labctl("hub-token").stdout.strip())
    log_in(driver, url, "alice", PASSWORDS["alice"])
    messages = start_from_the_form(driver, url, place)
    assert driver.current_url.startswith(url + "user/alice/e2e/"), driver.current_url
    yield SimpleNamespace(driver=driver, url=url, hub=hub, place=place, messages=messages)
    # Closed first: left open, its JupyterLab would go on polling the next
    # place's server at the same URL.
    driver.quit()
    if hub.server("alice", "e2e") is not None:
        hub.stop("alice", "e2e")


def start_from_the_form(driver, url, place):
    """Start alice's server 'e2e' with the place's preset; the spawn page's
    messages once JupyterLab is loaded (a drone takes up to a few minutes)."""
    driver.get(url + "hub/spawn/alice/e2e")
    preset = wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-preset")))
    Select(preset).select_by_value(place.preset)
    driver.find_element(By.CSS_SELECTOR, "form input[type=submit], form button[type=submit]").click()
    messages = []
    wait(driver, 240).until(lambda d: _progress(d, messages) or "/lab" in d.current_url)
    wait_for_jupyterlab(driver)
    return messages


def test_the_spawn_page_says_where_the_server_runs(alice_lab):
    for says in alice_lab.place.says:
        assert any(re.search(says, m) for m in alice_lab.messages), (says, alice_lab.messages)


def wait_for_jupyterlab(driver):
    """JupyterLab loaded: the launcher is shown and the splash screen gone."""
    wait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Launcher")))
    wait(driver, 60).until(EC.invisibility_of_element_located((By.ID, "jupyterlab-splash")))


def open_launcher(driver, url, server):
    """A fresh JupyterLab layout (?reset), which shows the launcher."""
    driver.switch_to.window(driver.window_handles[0])
    # One slash: configurable-http-proxy 5 passes "//lab" on as it is (4.5
    # made it "/lab"), and the server has no such page.
    driver.get(f"{url}{server.rstrip('/')}/lab?reset")
    wait_for_jupyterlab(driver)


def job_request(lab, hub, user, server):
    """The job behind a server and what it asked HTCondor for."""
    cluster = job_of(hub, user, server)["cluster"]
    ad = lab.exec("hub", "condor_q", f"{cluster}.0", "-af", "RequestCpus", "RequestMemory", "RequestDisk").stdout
    cpus, memory, disk = (int(v) for v in ad.split())
    return cluster, cpus, memory, disk


def test_a_notebook_cell_runs_where_the_spawn_page_said(alice_lab):
    driver, place = alice_lab.driver, alice_lab.place
    driver.find_element(By.CSS_SELECTOR, '.jp-LauncherCard[data-category="Notebook"][title*="Python 3"]').click()
    # Typed only once the new notebook has its kernel: before, JupyterLab may
    # still replace the cell's editor, and the keys go nowhere.
    wait_for_jupyterlab_notebook(driver)
    cell = wait(driver, 60).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-Cell .cm-content")))
    cell.click()
    cell.send_keys("import socket; socket.gethostname()")
    wait(driver).until(lambda d: "socket.gethostname()" in d.find_element(By.CSS_SELECTOR, ".jp-Cell .cm-content").text)
    driver.find_element(By.CSS_SELECTOR, ".jp-Cell .cm-content").send_keys(Keys.SHIFT, Keys.ENTER)
    output = wait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-OutputArea-output")))
    wait(driver, 30).until(lambda d: ".test" in output.text)
    assert re.fullmatch(rf"'{place.hosts}'", output.text.strip()), output.text
    assert re.search(rf"is running on {output.text.strip()[1:-1]}\b", " ".join(alice_lab.messages))
    # Saved in the job's copy of ~/jupyter (JupyterLab asks for a name on the
    # first save); the last test finds it back on the hub.
    driver.find_element(By.CSS_SELECTOR, ".jp-Cell .cm-content").send_keys(Keys.CONTROL, "s")
    name = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-Dialog input[type=text]")))
    name.send_keys(Keys.CONTROL, "a")
    name.send_keys(NOTEBOOK)
    driver.find_element(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept").click()
    wait(driver, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".jp-mod-dirty") and any(
        e.text == NOTEBOOK for e in d.find_elements(By.CSS_SELECTOR, ".jp-DirListing-itemText")))
    # The environment switched off JupyterLab's question about upstream's news.
    assert "Jupyter news" not in driver.find_element(By.TAG_NAME, "body").text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"notebook-{slug(place)}.png"))


def test_the_status_bar_and_a_terminal_show_the_requested_resources(lab, alice_lab):
    driver, url, hub = alice_lab.driver, alice_lab.url, alice_lab.hub
    cluster, cpus, memory, disk = job_request(lab, hub, "alice", "e2e")
    # jupyter-resource-usage: CPU, and memory against the job's request; the
    # top bar has both as bars against the job's requests.
    usage = wait(driver, 30).until(lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".jp-StatusBar-Item")
                                              if "Mem:" in e.text])
    assert re.fullmatch(rf"CPU: [\d.]+ % \| Mem: [\d.]+ / {memory}\.00 MB", usage[0]), usage
    topbar = driver.find_element(By.ID, "jp-top-panel").text
    assert "CPU:" in topbar and "Mem:" in topbar, topbar
    # xterm.js draws on a canvas; with alice's screen reader setting on, it
    # also writes the terminal's text into the page, where the test reads it.
    status = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const xsrf = document.cookie.split('; ').find(c => c.startsWith('_xsrf=')).slice(6);
        fetch(arguments[0], {method: 'PUT', headers: {'X-XSRFToken': xsrf, 'Content-Type': 'application/json'},
                             body: JSON.stringify({raw: JSON.stringify({screenReaderMode: true})})})
            .then(r => done(r.status), e => done(String(e)));
        """, "/user/alice/e2e/lab/api/settings/@jupyterlab/terminal-extension:plugin")
    assert status == 204, status
    open_launcher(driver, url, "user/alice/e2e/")
    driver.find_element(By.CSS_SELECTOR, '.jp-LauncherCard[data-category="Other"][title*="terminal"]').click()
    text = wait(driver, 60).until(lambda d: d.execute_script(
        "const t = document.querySelector('.jp-Terminal .xterm-accessibility-tree');"
        "return t && t.innerText.includes('You requested') && t.innerText"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"terminal-{slug(alice_lab.place)}.png"))
    gigabytes = f"{disk / 1048576:.1f}"
    assert (f"You requested {cpus} core(s), {memory} MB RAM and {gigabytes} GB disk space for this session "
            f"(HTCondor job {cluster}.0).") in text, text


def test_the_xpra_desktop_shows_an_x11_application(alice_lab):
    driver, url = alice_lab.driver, alice_lab.url
    open_launcher(driver, url, "user/alice/e2e/")
    driver.find_element(By.CSS_SELECTOR, '.jp-LauncherCard[title*="Xpra Desktop"]').click()
    wait(driver).until(lambda d: len(d.window_handles) == 2)  # the launcher opens a browser tab
    driver.switch_to.window(driver.window_handles[1])
    try:
        assert driver.current_url.startswith(url + "user/alice/e2e/xprahtml5/"), driver.current_url
        # Xpra's HTML5 client gives each X11 window a frame with its title.
        wait(driver, 60).until(lambda d: any(e.text.strip() == "xterm"
                                             for e in d.find_elements(By.CSS_SELECTOR, ".windowtitle")))
        # ...and xterm has drawn into it: more than one colour in its canvas.
        colours = wait(driver, 30).until(lambda d: d.execute_script("""
            const canvas = document.querySelector('.window canvas');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const seen = new Set();
            for (let i = 0; i < pixels.length; i += 4) seen.add(pixels[i] << 16 | pixels[i + 1] << 8 | pixels[i + 2]);
            return seen.size > 1 && seen.size;"""))
        print(f"\nxterm in the Xpra desktop, {colours} colours drawn")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"xpra-desktop-{slug(alice_lab.place)}.png"))
    finally:
        driver.close()
        driver.switch_to.window(driver.window_handles[0])


def run_first_cell(driver):
    """Run a freshly opened notebook's first cell (command mode, Shift+Enter)."""
    prompt = wait(driver, 60).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-Cell .jp-InputPrompt")))
    prompt.click()
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()


def plot_source(driver):
    """The data URL of the plot the notebook shows (None until there is one)."""
    images = driver.find_elements(By.CSS_SELECTOR, ".jp-Cell .jp-OutputArea-output img")
    return images[0].get_attribute("src") if images else None


def test_the_talks_notebook_draws_a_sine_and_its_slider_redraws_it(alice_lab):
    driver, url, hub = alice_lab.driver, alice_lab.url, alice_lab.hub
    notebook = {"cells": [{"cell_type": "code", "source": TALK_CODE, "metadata": {}, "outputs": [],
                           "execution_count": None}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    status, body = hub.user_api("alice", f"api/contents/{TALK_NOTEBOOK}", "e2e", method="PUT",
                                body={"type": "notebook", "format": "json", "content": notebook})
    assert status in (200, 201), (status, body)
    driver.switch_to.window(driver.window_handles[0])
    driver.get(f"{url}user/alice/e2e/lab/tree/{TALK_NOTEBOOK}")
    wait_for_jupyterlab_notebook(driver)
    run_first_cell(driver)
    before = wait(driver, 120).until(plot_source)
    slider = wait(driver, 30).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-Cell .noUi-handle")))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"talk-notebook-before-{slug(alice_lab.place)}.png"))
    first = driver.get_screenshot_as_png()
    slider.click()
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    wait(driver, 30).until(lambda d: "4" in d.find_element(By.CSS_SELECTOR, ".jp-Cell .widget-readout").text)
    # Each step of the slider redraws: the last one is done once the plot
    # stays the same for a second with the kernel idle.
    seen = []

    def settled(d):
        seen.append(plot_source(d) if "Idle" in d.find_element(By.ID, "jp-main-statusbar").text else None)
        return len(seen) > 1 and seen[-1] is not None and seen[-1] == seen[-2] and seen[-1] != before

    WebDriverWait(driver, 60, poll_frequency=1).until(settled)
    after = seen[-1]
    driver.save_screenshot(str(ARTIFACTS / f"talk-notebook-{slug(alice_lab.place)}.png"))
    assert after.startswith("data:image/png") and after != before
    assert driver.get_screenshot_as_png() != first
    shut_down_kernels(hub)


def test_an_r_notebook_prints_its_version_and_draws_a_plot(alice_lab):
    driver, url, hub = alice_lab.driver, alice_lab.url, alice_lab.hub
    open_launcher(driver, url, "user/alice/e2e/")
    cards = [card for card in driver.find_elements(By.CSS_SELECTOR, '.jp-LauncherCard[data-category="Notebook"]')
             if card.get_attribute("title") == "R"]
    assert cards, "the launcher offers no R notebook"
    cards[0].click()
    wait_for_jupyterlab_notebook(driver)
    for code in ("R.version.string", "plot(1:10, main = 'R in the job')"):
        cell = wait(driver, 60).until(EC.element_to_be_clickable(
            (By.CSS_SELECTOR, ".jp-Notebook .jp-Cell.jp-mod-active .cm-content")))
        cell.click()
        cell.send_keys(code)
        cell.send_keys(Keys.SHIFT, Keys.ENTER)
    outputs = wait(driver, 120).until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")
                                                 if "R version 4." in e.text])
    assert re.search(r"R version 4\.\d+\.\d+", outputs[0].text), outputs[0].text
    wait(driver, 60).until(plot_source)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"r-notebook-{slug(alice_lab.place)}.png"))
    shut_down_kernels(hub)


def wait_for_jupyterlab_notebook(driver):
    """A notebook opened in JupyterLab, its kernel idle."""
    wait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")))
    wait(driver, 60).until(EC.invisibility_of_element_located((By.ID, "jupyterlab-splash")))
    wait(driver, 120).until(lambda d: "Idle" in d.find_element(By.ID, "jp-main-statusbar").text)


def shut_down_kernels(hub):
    """End the kernels of alice's server: the small preset has room for a few only."""
    status, kernels = hub.user_api("alice", "api/kernels", "e2e")
    assert status == 200, kernels
    for kernel in kernels:
        status, body = hub.user_api("alice", f"api/kernels/{kernel['id']}", "e2e", method="DELETE")
        assert status == 204, (status, body)


def test_bob_gets_his_own_server_and_cannot_open_alices(lab, browser, alice_lab):
    url, hub = alice_lab.url, alice_lab.hub
    driver = browser
    log_in(driver, url, "bob", PASSWORDS["bob"])
    try:
        driver.get(url + "hub/spawn/bob")
        wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-cpus")))
        driver.find_element(By.CSS_SELECTOR, "form input[type=submit], form button[type=submit]").click()
        wait_for_jupyterlab(driver)
        assert driver.current_url.startswith(url + "user/bob/"), driver.current_url
        # Both servers run at once, each in its own user's job.
        assert hub.server("alice", "e2e")["ready"] and hub.server("bob")["ready"]
        alice_job, bob_job = job_of(hub, "alice", "e2e")["cluster"], job_of(hub, "bob")["cluster"]
        assert lab.job_attr(f"{alice_job}.0", "Owner") == "alice"
        assert lab.job_attr(f"{bob_job}.0", "Owner") == "bob"
        # A page of alice's server sends bob to the hub, which says no; her
        # server's API refuses his cookie outright.
        refused = "You do not have permission to access Server at /user/alice/e2e/"
        for path, says in (("user/alice/e2e/lab", refused), ("user/alice/e2e/xprahtml5/", refused),
                           ("user/alice/e2e/api/contents", '"message": "Forbidden"')):
            driver.get(url + path)
            wait(driver).until(lambda d, says=says: says in d.find_element(By.TAG_NAME, "body").text)
            assert "jp-Launcher" not in driver.page_source and NOTEBOOK not in driver.page_source, path
    finally:
        if hub.server("bob") is not None:
            hub.stop("bob")


def test_stopping_from_the_control_panel_ends_the_job_and_brings_files_home(lab, alice_lab):
    driver, url, hub = alice_lab.driver, alice_lab.url, alice_lab.hub
    cluster = job_of(hub, "alice", "e2e")["cluster"]
    driver.switch_to.window(driver.window_handles[0])
    driver.get(url + "hub/home")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "stop-e2e"))).click()
    wait(driver, 120).until(lambda d: hub.server("alice", "e2e") is None)
    wait_for(lambda: left_queue(lab, "alice", [cluster]), 60, f"job {cluster} to leave the queue")
    notebook = lab.exec("hub", "cat", f"jupyter-e2e/{NOTEBOOK}", user="alice").stdout
    assert "socket.gethostname()" in notebook and re.search(alice_lab.place.hosts, notebook), notebook[:500]


def test_a_saved_notebook_opens_with_its_outputs_after_a_restart(lab, alice_lab):
    """After the stop above: started again from the form (on either worker of
    the place; at site B, on a new drone), the notebook saved in the first run
    opens with its output, not run again."""
    driver, url, place = alice_lab.driver, alice_lab.url, alice_lab.place
    start_from_the_form(driver, url, place)
    driver.get(f"{url}user/alice/e2e/lab/tree/{NOTEBOOK}")
    output = wait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-OutputArea-output")))
    assert re.fullmatch(rf"'{place.hosts}'", output.text.strip()), output.text
    assert driver.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip() == "[1]:"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"notebook-after-restart-{slug(place)}.png"))


def slug(place):
    return place.name.replace(" ", "-").lower()


def test_a_spawn_no_machine_can_run_says_why_and_stop_cancels_it(lab, browser):
    driver = browser
    url = lab.labctl("url").stdout.strip()
    hub = Hub(url, lab.labctl("hub-token").stdout.strip())
    log_in(driver, url, "alice", PASSWORDS["alice"])
    try:
        driver.get(url + "hub/spawn/alice/gpu")
        gpus = wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-gpus")))
        gpus.clear()
        gpus.send_keys("1")
        driver.find_element(By.CSS_SELECTOR, "form input[type=submit], form button[type=submit]").click()
        says = "no machine in the pool has the 1 GPU you asked for"
        wait(driver, 90).until(lambda d: says in d.find_element(By.ID, "progress-message").text)
        message = driver.find_element(By.ID, "progress-message")
        assert "TARGET.GPUs" not in message.text  # HTCondor's words: folded under Details
        message.find_element(By.TAG_NAME, "summary").click()
        assert "TARGET.GPUs" in message.text, message.text
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "spawn-waiting-for-a-gpu.png"))
        cluster = int(re.search(r"Job (\d+)\.0 is still waiting", message.text).group(1))
        driver.find_element(By.ID, "stop-server-btn").click()
        wait_for(lambda: (hub.server("alice", "gpu") or {}).get("pending") is None
                 and not (hub.server("alice", "gpu") or {}).get("ready"), 60, "the spawn to be cancelled")
        wait_for(lambda: left_queue(lab, "alice", [cluster]), 60, f"job {cluster} to leave the queue")
    finally:
        if hub.server("alice", "gpu") is not None:
            hub.stop("alice", "gpu")
