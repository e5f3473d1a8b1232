# The two commands of README.md, and the steps they are made of.
#   sudo make demo   bring up the demo site and say how to reach it
#   sudo make test   every test (what CI runs)
#   sudo make bench  the benchmarks against stock batchspawner (about 40 minutes)

LABCTL := tests/lab/labctl
RUFF := $(or $(UNCHAINED_LAB_CACHE),/var/cache/unchained-lab)/tools/ruff-0.17.5/bin/ruff
PUPPET_FILES := $(shell find puppet -name '*.pp')
EPP_FILES := $(shell find puppet -name '*.epp')
STRINGS := puppet strings generate --format markdown 'site-modules/**/manifests/**/*.pp' 'site-modules/**/types/**/*.pp'

.PHONY: test demo demo-down host-packages lint unit lab-test bench-smoke bench reference

test: host-packages lint unit lab-test bench-smoke
	@echo "make test: all passed. The lab is still running; 'sudo make demo-down' stops it."

demo: host-packages
	$(LABCTL) up
	@$(LABCTL) status
	@echo
	@echo "The demo site is up: an HTCondor pool of four Debian hosts, a CVMFS publisher, a KDC and Prometheus, configured by puppet/,"
	@echo "with JupyterHub at $$($(LABCTL) url) (REST API; an admin token: sudo $(LABCTL) hub-token)."
	@echo "Log in at $$($(LABCTL) url) as alice (password alice-lab-password) or bob (bob-lab-password); lab-only passwords."
	@echo "Start a notebook server for alice on a firewalled worker:"
	@echo "  curl --cacert $$($(LABCTL) ca) -X POST -H \"Authorization: token \$$(sudo $(LABCTL) hub-token)\" $$($(LABCTL) url)hub/api/users/alice/server"
	@echo "The hub's certificate comes from the lab's own CA: $$($(LABCTL) ca) (import it into a browser to trust it)."
	@echo "Run commands on a host:  sudo $(LABCTL) exec hub -- condor_status"
	@echo "                         sudo $(LABCTL) exec --user alice hub -- condor_q"
	@echo "Prometheus, scraping the hub's metrics: http://10.77.0.14:9090 (host mon)"
	@echo "Stop it:                 sudo make demo-down"

demo-down:
	$(LABCTL) down

host-packages:
	tests/install-host-packages
	tests/install-host-tools

lint:
	$(RUFF) check hub tests notebook-env cvmfs container notebook-env/build notebook-env/lock puppet/lock-venvs cvmfs/publish container/build \
		tests/doubles/cvmfs_server_double
	puppet parser validate $(PUPPET_FILES)
	puppet epp validate $(EPP_FILES)
	puppet-lint --fail-on-warnings puppet/site-modules puppet/manifests
	@# REFERENCE.md must say what the code says.
	tmp=$$(mktemp) && cd puppet && $(STRINGS) --out "$$tmp" >/dev/null 2>&1 \
		&& diff -u REFERENCE.md "$$tmp" && rm -f "$$tmp" \
		|| { echo "puppet/REFERENCE.md is out of date: run 'make reference'"; rm -f "$$tmp"; exit 1; }

unit:
	cd tests/puppet && rspec
	/usr/bin/python3 -m pytest tests/unit
	/usr/bin/python3 -m pytest -c tests/pytest.ini --rootdir container container/tests

# Debian's own Python, for which host-packages installs pytest and pip
# (another python3 earlier on PATH may lack them).
lab-test:
	/usr/bin/python3 -m pytest tests/lab

# The benchmarks against stock batchspawner (tests/bench/README.md): the short
# version in every test run, so that the harness cannot rot; the full one on its own.
bench-smoke:
	/usr/bin/python3 tests/bench/bench.py --smoke --out tests/artifacts/bench-smoke

bench: host-packages
	/usr/bin/python3 tests/bench/bench.py

# puppet/REFERENCE.md, from the puppet-strings comments of our classes.
reference:
	cd puppet && $(STRINGS) --out REFERENCE.md
