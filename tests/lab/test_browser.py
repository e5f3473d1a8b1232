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

import pytest
from conftest import LAB_DIR
from hubclient import Hub

selenium = pytest.importorskip("selenium", reason="python3-selenium is missing: run tests/install-host-packages")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = LAB_DIR.parent / "artifacts" / "browser"
PASSWORDS = {"alice": "alice-lab-password", "bob": "bob-lab-password"}


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
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(60)
        drivers.append(driver)
        return driver

    yield new_browser
    for driver in drivers:
        driver.quit()


def log_in(driver, url, user, password):
    driver.get(url + "hub/login")
    driver.find_element(By.ID, "username_input").send_keys(user)
    driver.find_element(By.ID, "password_input").send_keys(password)
    driver.find_element(By.ID, "login_submit").click()


def wait(driver, seconds=30):
    return WebDriverWait(driver, seconds)


def test_a_wrong_password_is_refused_on_the_login_page(lab, browser_factory):
    driver = browser_factory()
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", "not-her-password")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login_error, p.login_error")))
    assert "Invalid username or password" in driver.page_source
    assert "jupyterhub-hub-login" not in {c["name"] for c in driver.get_cookies()}


def test_alice_logs_in_and_the_form_refuses_an_out_of_range_value(lab, browser_factory):
    driver = browser_factory()
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", PASSWORDS["alice"])
    driver.get(url + "hub/spawn/alice/form")
    form = wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-cpus")))
    page = driver.page_source
    assert "Small: 1 core, 0.5 GB" in page and "Medium: 2 cores, 1 GB" in page  # the admin's presets
    assert re.search(r"CPU cores?, 1 to 2", page), "the limits are shown"
    # A crafted value past the browser's own check: the hub refuses it, naming the field.
    driver.execute_script("arguments[0].removeAttribute('max'); arguments[0].value = '64';", form)
    form.submit()
    wait(driver).until(lambda d: "cpus" in d.page_source and "maximum" in d.page_source)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "spawn-form-refused.png"))
    assert re.search(r"cpus: 64 is above the maximum 2", driver.page_source), driver.page_source[-2000:]


def test_a_valid_choice_shows_progress_then_jupyterlab(lab, browser_factory):
    driver = browser_factory()
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
    for element in driver.find_elements(By.CSS_SELECTOR, ".progress-log-event"):
        text = (element.get_attribute("textContent") or "").strip()
        if text and text not in messages:
            messages.append(text)
    return any("ready" in m.lower() for m in messages)


@pytest.fixture(scope="module")
def alice_lab(lab, browser_factory):
    """alice's browser with JupyterLab open on her server 'e2e'."""
    driver = browser_factory()
    url = lab.labctl("url").stdout.strip()
    log_in(driver, url, "alice", PASSWORDS["alice"])
    driver.get(url + "hub/spawn/alice/e2e")
    wait(driver).until(EC.presence_of_element_located((By.ID, "unchained-cpus")))
    driver.find_element(By.CSS_SELECTOR, "form input[type=submit], form button[type=submit]").click()
    wait(driver, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-Launcher")))
    wait(driver, 60).until(EC.invisibility_of_element_located((By.ID, "jupyterlab-splash")))
    yield driver, url
    hub = Hub(url, lab.labctl("hub-token").stdout.strip())
    if hub.server("alice", "e2e") is not None:
        hub.stop("alice", "e2e")


def test_a_notebook_cell_runs_on_an_execute_host(alice_lab):
    driver, _ = alice_lab
    driver.find_element(By.CSS_SELECTOR, '.jp-LauncherCard[data-category="Notebook"][title*="Python 3"]').click()
    cell = wait(driver, 60).until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-Cell .cm-content")))
    cell.click()
    cell.send_keys("import socket; socket.gethostname()")
    driver.find_element(By.CSS_SELECTOR, ".jp-Cell .cm-content").send_keys(Keys.SHIFT, Keys.ENTER)
    output = wait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".jp-OutputArea-output")))
    wait(driver, 30).until(lambda d: "lab.test" in output.text)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "notebook.png"))
    assert re.fullmatch(r"'ex[12]\.lab\.test'", output.text.strip()), output.text


def test_bob_cannot_open_alices_server(lab, browser_factory, alice_lab):
    _, url = alice_lab
    driver = browser_factory()
    log_in(driver, url, "bob", PASSWORDS["bob"])
    driver.get(url + "user/alice/e2e/lab")
    wait(driver).until(lambda d: "403" in d.page_source or "Forbidden" in d.page_source
                       or "/user/bob" in d.current_url)
    assert "jp-Launcher" not in driver.page_source
    assert "/user/alice/" not in driver.current_url or "403" in driver.page_source
