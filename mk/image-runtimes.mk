# Image runtimes for the tests that run step code as a SageMaker image would: the image's
# Python version and package versions, one virtualenv per image under .venv-images/<image>,
# pinned by tools/image-runtimes/<image>.txt (resolved from <image>.in, which names the
# Python version and where the pins come from), built by uv on the machine's CPython of
# that version (pyenv's, else python3.X on PATH). Without that Python the target says so in
# one line and the tests that need the runtime are skipped, visibly.
# The local cloud's executor runs every container step with the runtime of its image
# (src/batchops/images.json names it; executor/containers/runtimes.py); `make demo` and
# `make test` build them. Up to date: one stamp file each, nothing runs.
IMAGE_RUNTIMES := sklearn-1.2-1 xgboost-1.7-1
#: the runtimes whose steps ship wheels of what the image lacks (<image>-step-wheels.txt)
STEP_WHEEL_IMAGES := sklearn-1.2-1
IMAGE_RUNTIMES_DIR := .venv-images
IMAGE_PYENV_ROOT := $(shell pyenv root 2>/dev/null)
image_python_version = $(shell sed -n 's/^\# python: *//p' tools/image-runtimes/$(1).in)
image_python = $(or $(lastword $(sort $(wildcard $(IMAGE_PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1) 2>/dev/null))

.PHONY: image-runtimes
image-runtimes: $(IMAGE_RUNTIMES:%=$(IMAGE_RUNTIMES_DIR)/%/.installed) ## virtualenvs with the Python + pins of the SageMaker images the step code runs in (.venv-images/)

IMAGE_RELEASE_MODULE := src/batchops/localcloud/executor/containers/image_release.py
image_release = $(shell sed -n 's/^\# release: *//p' tools/image-runtimes/$(1).in)

# With "# release: X.Y.Z" in the .in file, the runtime's interpreter starts as that patch
# release of the image (image_release.py, through a .pth line): API added later is hidden.
# Bytecode is compiled at install, as the images' conda/pip installs compile it: without it
# every zygote or cold container compiles numpy, pandas, scikit-learn, xgboost from source
# (PYTHONDONTWRITEBYTECODE, common in CI and containers, stops Python from caching it).
$(IMAGE_RUNTIMES_DIR)/%/.installed: tools/image-runtimes/%.txt tools/image-runtimes/%.in $(IMAGE_RELEASE_MODULE) mk/image-runtimes.mk | $(UV)
	@version="$(call image_python_version,$*)"; py="$(call image_python,$(call image_python_version,$*))"; \
	release="$(call image_release,$*)"; \
	if [ -z "$$py" ]; then \
	  echo "image-runtimes: CPython $$version not found (pyenv root, python$$version): the local cloud runs the $* image's steps under the project's Python (a WARNING in each step's log) and tests of step code under that runtime are skipped"; \
	else \
	  echo "image-runtimes: $* (Python $$version, $$py)"; \
	  $(UV) venv --quiet --allow-existing --python "$$py" $(IMAGE_RUNTIMES_DIR)/$* && \
	  $(UV) pip sync --quiet --compile-bytecode --python $(IMAGE_RUNTIMES_DIR)/$*/bin/python $< && \
	  site="$$($(IMAGE_RUNTIMES_DIR)/$*/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" && \
	  rm -f "$$site/batchops_image_release.py" "$$site/batchops_image_release.pth" && \
	  if [ -n "$$release" ]; then \
	    cp $(IMAGE_RELEASE_MODULE) "$$site/batchops_image_release.py" && \
	    echo "import batchops_image_release; batchops_image_release.apply('$$release')" > "$$site/batchops_image_release.pth"; \
	  fi && touch $@; \
	fi

# Wheels a step ships with its job for what its image lacks (the data-quality step: polars
# for Python 3.9), downloaded once from PyPI, checked against the hashes of
# tools/image-runtimes/<image>-step-wheels.txt; the pipeline builders read them from here.
STEP_WHEELS_DIR := .batchops/step-wheels
STEP_WHEELS := $(STEP_WHEEL_IMAGES:%=$(STEP_WHEELS_DIR)/%.downloaded)

.PHONY: step-wheels
step-wheels: $(STEP_WHEELS) ## download (once, hash-checked) the wheels the data-quality step ships to its image (.batchops/step-wheels/)

$(STEP_WHEELS_DIR)/%.downloaded: tools/image-runtimes/%-step-wheels.txt | $(UV)
	@rm -rf $(STEP_WHEELS_DIR)/$* && mkdir -p $(STEP_WHEELS_DIR)/$*
	$(TOOLS)/bin/pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	  --only-binary=:all: --implementation cp --python-version "$(call image_python_version,$*)" \
	  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -r $< -d $(STEP_WHEELS_DIR)/$* 2> >(grep -v "^WARNING: Location" >&2)
	@touch $@

install demo test-python: step-wheels

.PHONY: image-runtimes-lock
image-runtimes-lock: $(UV) ## re-resolve tools/image-runtimes/*.txt from their .in pins (needs PyPI)
	for image in $(IMAGE_RUNTIMES); do \
	  version="$$(sed -n 's/^# python: *//p' tools/image-runtimes/$$image.in)"; \
	  $(UV) pip compile --quiet --python-version "$$version" \
	    --python-platform x86_64-manylinux_2_17 --annotation-style line \
	    --custom-compile-command "make image-runtimes-lock" \
	    tools/image-runtimes/$$image.in -o tools/image-runtimes/$$image.txt; \
	  [ -f tools/image-runtimes/$$image-step-wheels.in ] || continue; \
	  $(UV) pip compile --quiet --python-version "$$version" \
	    --python-platform x86_64-manylinux_2_17 --generate-hashes --no-annotate \
	    --custom-compile-command "make image-runtimes-lock" \
	    tools/image-runtimes/$$image-step-wheels.in -o tools/image-runtimes/$$image-step-wheels.txt; \
	done

test-python demo: image-runtimes
TEST_PREREQUISITES += image-runtimes step-wheels

BENCH_TARGETS += bench-image-runtimes

.PHONY: bench-image-runtimes
bench-image-runtimes: $(STAMP) image-runtimes ## container start per image runtime (warm, cold, zygote) vs the project runtime (benchmarks/results/image_runtimes.md)
	$(BIN)/python benchmarks/image_runtimes_bench.py
