# mannequin: every target installs what it needs first, so a fresh clone needs only `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH ?= torch==2.13.0
# A GPU user: `make install TORCH_INDEX=https://download.pytorch.org/whl/cu128` (docs/getting-started.md).
TORCH_INDEX ?=
UV_VERSION ?= 0.13.10
FIND_LINKS ?= $(or $(PIP_FIND_LINKS),$(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null))

# Offline and quiet, state inside the project: no analytics or telemetry, Prefect's home in .prefect/.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_SERVER_API_HOST := 127.0.0.1
export DO_NOT_TRACK := 1
export DVC_NO_ANALYTICS := 1
export GX_ANALYTICS_ENABLED := false
export PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY := false
export PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS := false
export DVC_SITE_CACHE_DIR := $(CURDIR)/.dvc/tmp/site-cache
export PYTHONUNBUFFERED := 1
# stage commands (`mannequin ...` in dvc.yaml) resolve to the project venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install demo demo-gpu compare real-depth visp-data data test test-slow test-all lint docs bench serve clean help

help:
	@echo "make demo      install, create sample data if data/ is empty, run the whole pipeline (dvc repro)"
	@echo "make demo-gpu  the pipeline as a DVC experiment with the GPU profile (full resolution, wider, 8000 steps, bf16)"
	@echo "make compare   pretrain every pretext, fine-tune each (and scratch) per seed, write compare/report (long)"
	@echo "make real-depth every model on real scenes with true depth (castel RGB-D, Middlebury Motorcycle): the"
	@echo "               report's, docs/results.md's and BENCHMARKS.md's Real depth tables (needs a finished make demo)"
	@echo "make test      install and run the default test suite"
	@echo "make test-slow the slow tests (DDP, full pipeline, Prefect server); CI runs them too"
	@echo "make bench     run the benchmarks in bench/ and write bench/results/*.json"
	@echo "make serve     start a local Prefect server on 127.0.0.1 and serve the nightly deployment"
	@echo "make lint      ruff (check, format) and lint-imports (the layers contract in pyproject.toml)"
	@echo "make docs      the documentation site (mkdocs, --strict) into site/; offline"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
	@# uv installs the same pins in seconds where pip takes minutes (bench/bench_install.py: 29 s against 213 s);
	@# each step falls back to pip when uv cannot be installed or fails. uv reads no pip config: the find-links
	@# dirs (where a local torch wheel lies) are passed on from PIP_FIND_LINKS or pip's config.
	@# torch first, so nothing downloads a CUDA build on a CPU machine. scenedetect requires opencv-python, a
	@# second cv2 that would shadow opencv-python-headless: its own code runs on the headless build, so it is
	@# installed without its dependencies (all of them are in the lock).
	@set -e; \
	pipi() { $(BIN)/python -m pip install -q --disable-pip-version-check "$$@"; }; \
	inst() { if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install -q --python $(BIN)/python $(foreach d,$(FIND_LINKS),--find-links $(d)) "$$@" || pipi "$$@"; \
	  else pipi "$$@"; fi; }; \
	pipi "uv==$(UV_VERSION)" 2>/dev/null || echo "install: uv $(UV_VERSION) not installable here: pip installs (slower)"; \
	inst "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),); \
	inst -r requirements.lock; \
	inst --no-deps scenedetect==0.7.2; \
	inst --no-deps --no-build-isolation -e .
	@# the person segmenter's model: one file of the mediapipe 0.10.21 wheel (PyPI), sha256-checked, into the cache
	@# dir (~/.cache/mannequin/models); offline this prints one line and the segmenter's tests skip
	$(BIN)/python -m mannequin.curation.segmenter_model fetch
	$(BIN)/dvc config --local core.analytics false 2>/dev/null || true
	$(BIN)/dvc config --local core.check_update false 2>/dev/null || true
	$(BIN)/dvc config --local core.site_cache_dir $(CURDIR)/.dvc/tmp/site-cache 2>/dev/null || true
	touch $(STAMP)

data: install
	@if [ -z "$$(ls -A data 2>/dev/null)" ]; then \
	  echo "data/ is empty: writing the embedded sample dataset"; \
	  $(BIN)/mannequin sample-data data --workers 2 && $(BIN)/dvc add -q data; \
	fi

demo: data
	$(BIN)/dvc repro
	@echo; cat reports/headline.md; echo
	@echo "dvc metrics show (after an experiment: dvc metrics diff):"
	@$(BIN)/dvc metrics show 2>/dev/null || true

# The GPU profile (docs/orchestration.md): the pipeline as a DVC experiment at the curated frames' full resolution,
# a net twice as wide, 8x the pretraining steps, bf16 (precision auto is bf16-mixed on a CUDA GPU, and stays 32-bit
# on a CPU). tests/core/test_gpu_profile.py validates every key and value against the params models.
GPU_PROFILE := -S 'pretrain.image_size=[160,120]' -S 'finetune.image_size=[160,120]' -S pretrain.net.width=32 \
	-S pretrain.trainer.max_steps=8000 -S pretrain.batch_size=32 -S pretrain.num_workers=4 \
	-S pretrain.trainer.precision=auto -S finetune.trainer.precision=auto
demo-gpu: data
	$(BIN)/dvc exp run $(GPU_PROFILE)
	@$(BIN)/dvc metrics show 2>/dev/null || true

# Every registered pretext (or COMPARE_OBJECTIVES, e.g. "mvs photometric mvs+photometric") on the same curated
# shards, steps and seed, fine-tuned at finetune.budgets beside scratch, for each of COMPARE_SEEDS:
# compare/report/pretexts_compared.md and the table of docs/results.md (docs/experiments.md). Long: not in demo.
COMPARE_SEEDS ?= 0 1
COMPARE_OUT ?= compare
COMPARE_SET ?=
COMPARE_OBJECTIVES ?=
compare: data
	$(BIN)/dvc repro curate
	$(BIN)/python bench/compare_pretexts.py --params params.yaml --out $(COMPARE_OUT) --seeds $(COMPARE_SEEDS) \
	  --results-page docs/results.md --results bench/results/compare_pretexts.json $(foreach s,$(COMPARE_SET),--set $(s)) \
	  $(if $(strip $(COMPARE_OBJECTIVES)),--objectives $(COMPARE_OBJECTIVES))
	@# the pipeline's report gains the "Pretexts compared" section (report.compared) once there is a report to redo
	test ! -d metrics || $(BIN)/mannequin report --params params.yaml

# Real scenes with true depth (docs/real-depth.md): ViSP's castel RGB-D sequence from Debian's visp-images-data
# (GPL-2: installed here at test or bench time, never committed) and the Middlebury Motorcycle pair scikit-image
# ships, scored with every model under models/; rewrites real/real_depth.json, bench/results/real_depth.json, the
# table of docs/results.md and BENCHMARKS.md, then the report (when there is one). Without visp-images-data castel is skipped.
CASTEL_DIR := /usr/share/visp-images-data/ViSP-images/mbt-depth/castel
real-depth: install visp-data
	$(BIN)/mannequin real-data --params params.yaml
	$(BIN)/mannequin real-depth --params params.yaml --results bench/results/real_depth.json \
	  --results-page docs/results.md
	$(BIN)/python bench/castel_poses.py --data real/data --poses real/poses
	$(BIN)/python bench/summarize.py
	test ! -d metrics || $(BIN)/mannequin report --params params.yaml

# visp-images-data (castel) where it can be installed: as root with apt-get; otherwise one line and go on
visp-data:
	@if [ -d "$(CASTEL_DIR)/castel" ]; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q visp-images-data >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q visp-images-data >/dev/null 2>&1; } || \
	  echo "visp-images-data: apt-get could not install it: the castel clip is skipped"; \
	else echo "visp-images-data: not installed and not root with apt-get: the castel clip is skipped (sudo apt-get install visp-images-data)"; fi

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

test-all: install
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: install
	$(BIN)/ruff check src tests flows bench docs/hooks
	$(BIN)/ruff format --check src tests flows bench docs/hooks
	$(BIN)/lint-imports --no-cache

# The site: mkdocs-material, offline (no fonts or assets from the network); the references are generated from the
# code by docs/hooks/references.py. --strict: a broken link, anchor or reference fails the build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "site/index.html"

bench: install
	@for b in bench/bench_*.py; do \
	  echo "== $$b"; $(BIN)/python $$b || exit 1; \
	done
	$(BIN)/python bench/summarize.py

serve: install
	PREFECT_UI_ENABLED=true $(BIN)/python flows/deploy.py serve --port $(or $(PREFECT_PORT),4200)

clean:
	rm -rf curated models metrics reports runs logs compare site .prefect bench/results/*.json
