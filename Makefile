# The two commands of the README: `make lab` and `make test`. Everything runs in .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# nbgrader runs the venv's `alembic`, and Jupyter finds its kernels there: put its bin first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# As root, JupyterLab refuses to start without --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=
# `make lab EXTRAS=torch` also installs the optional extra (PyTorch CPU build, skorch, Keras) that
# aula06 compares nnlib with; plain `make lab` keeps the light install. PyTorch's CPU wheels come
# from its own index (from PyPI alone, Linux gets the CUDA build, several GB).
EXTRAS ?=
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
LAB_SPEC := $(if $(EXTRAS),.[$(EXTRAS)],.)
LAB_INDEX := $(if $(findstring torch,$(EXTRAS)),--extra-index-url $(TORCH_CPU_INDEX),)

.PHONY: lab test bench clean-venv release grade course-deps collect export

$(PY):
	$(PYTHON) -m venv $(VENV)

lab: $(PY)
	$(PIP) install --quiet -e '$(LAB_SPEC)' $(LAB_INDEX)
	mkdir -p $(VENV)/share/jupyter/lab/settings/overrides.d
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(VENV)/share/jupyter/lab/settings/overrides.d/t320-nnlib.json
	$(VENV)/bin/jupyter lab --notebook-dir=. --config="$(CURDIR)/course/browser/jupyter_server_config.py" $(ROOT_FLAG) $(LAB_ARGS)

# The whole suite (what CI runs) on TEST_JOBS pytest-xdist workers (default: one more than the
# number of cores: a third of the suite's time is spent waiting, on time-outs, servers starting
# and a browser, and on 2 cores 3 workers took 14.6 min where 2 took 16.8, docs/performance.md
# section 4; TEST_JOBS=1 runs it in one process). tests/conftest.py keeps the tests that share a
# grading batch or an executed notebook on one worker, so each runs once. -v: one line when a
# test starts and one when it ends ([worker] [percent] PASSED id): what is running, how far.
# The 25 slowest are listed at the end (docs/performance.md section 4).
TEST_JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
TEST_PARALLEL := $(if $(filter-out 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder,)
test: $(PY)
	$(PIP) install --quiet -e '.[test]'
	$(PY) -m pytest -v --durations=25 $(TEST_PARALLEL) $(PYTEST_ARGS)

# Training throughput, widget latency and notebook times -> docs/performance.md (torch optional).
bench: $(PY)
	$(PIP) install --quiet -e '.[test]'
	$(PY) -m benchmarks.bench --write && $(PY) -m benchmarks.widgets --write && $(PY) -m benchmarks.autograde --write

clean-venv:
	rm -rf $(VENV)

# The course tools (nbgrader, nnlib, the grading extras) in .venv, as `make lab` installs them.
# Installed once, and again only when pyproject.toml is newer than the stamp (the install is
# editable: changes to nnlib/ and course/ need none): collect, grade, export start at once.
COURSE_STAMP := $(VENV)/.course-deps.stamp
course-deps: $(COURSE_STAMP)

$(COURSE_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[grading]'
	touch $@


# Student versions: solutions/aula* -> lectures/, solutions/lista* -> assignments/ (forced;
# course/release/generate.py, run by course/release/__main__.py).
# release and grade install the course into .venv first (as test does), so they work on a
# fresh clone: the grader uid's kernel imports ipykernel, numpy and nnlib from that venv.
release: course-deps
	$(PY) -m course.release

# Autograde submitted/<student>/<id>/ (course/grading/driver.py): each submission's kernel and
# its trusted test process in bubblewrap sandboxes (as root or as a normal user), feedback/,
# grades.csv. JOBS submissions at once (default: the number of cores): make grade JOBS=4.
# Where no sandbox can start it stops and says what to do; UNSAFE=1 grades without one.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
grade: course-deps
	$(PY) -m course.grading -j $(JOBS) $(if $(UNSAFE),--unsafe)

# An LMS download -> submitted/<student>/<id>/<id>.ipynb (course/lms/collect.py; docs/course.md).
# make collect ZIP=~/Downloads/lista01.zip ID=lista01_otimizadores [LMS=moodle] [FORCE=1] [TIMES=worksheet.csv]
collect: course-deps
	@test -n "$(ZIP)" -a -n "$(ID)" || { echo "usage: make collect ZIP=download.zip ID=<assignment id> [LMS=teams|moodle|canvas|classroom] [FORCE=1] [TIMES=file.csv]" >&2; exit 2; }
	$(PY) -m course.lms.collect "$(ZIP)" "$(ID)" $(if $(LMS),--lms $(LMS)) $(if $(FORCE),--force) $(if $(TIMES),--times "$(TIMES)")

# Grades and feedback out (course/lms/export.py): export/<id>.csv (the LMS's grade import),
# export/<id>-feedback.zip (ONE upload: Moodle's feedback zip, Canvas's re-upload),
# export/<id>-summary.csv (per exercise). Refuses, naming them, when submissions changed after
# `make grade`. make export [ID=lista01_otimizadores] [LMS=moodle|canvas|teams|classroom|plain]
export: course-deps
	$(PY) -m course.lms.export $(ID) $(if $(LMS),--lms $(LMS))

# A class on JupyterHub on this machine (deploy/hub/README.md), as root on Debian/Ubuntu:
# users of the roster (homes 0700), the exchange, the course environment in HUB_STATE/venv,
# configurable-http-proxy from npm, then the hub in the foreground on HUB_IP:HUB_PORT.
# make hub INSTRUCTOR=prof [GRADERS="ta1 ta2"] [ROSTER=students.csv] [HUB_STATE=/srv/t320-hub]
#          [HUB_IP=127.0.0.1] [HUB_PORT=8000] [HUB_ARGS="--auth lti13 --lti-issuer ..."]
# Sandboxed autograde of what the formgrader collected: make hub-grade (as root)
HUB_STATE ?= /srv/t320-hub
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
ROSTER ?= students.csv
GRADERS ?=
HUB_ARGS ?=
.PHONY: hub hub-grade
hub:
	@test -n "$(INSTRUCTOR)" || { echo "usage: make hub INSTRUCTOR=<account> [GRADERS=\"ta1 ta2\"] [ROSTER=students.csv] (as root; deploy/hub/README.md)" >&2; exit 2; }
	$(PYTHON) deploy/hub/setup.py --state "$(HUB_STATE)" --roster "$(ROSTER)" --instructor "$(INSTRUCTOR)" \
	  $(foreach g,$(GRADERS),--grader $(g)) --ip "$(HUB_IP)" --port "$(HUB_PORT)" --start $(HUB_ARGS)

hub-grade:
	$(PYTHON) deploy/hub/setup.py grade --state "$(HUB_STATE)"
