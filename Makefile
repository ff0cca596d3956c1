# gctk: the two commands a newcomer runs (as root, on Debian 12 or 13):
#   make demo    install what is missing, build, run the main scenario
#   make check   install what the tests need, build, run every test
#   make bench   measure container start, the floor, scaling, memory (bench/README.md)
#   make deb     build the Debian packages gctk_<version>_{amd64,arm64}.deb in build-deb/
BUILD ?= build
BUILD_ASAN ?= build-asan
DEB_DIR ?= build-deb
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 30
PREFIX ?= /usr

# Every package a target needs is named here: tools/apt-install.sh installs
# them without Recommends. PKG? is a package only some releases have.
# scdoc: the man pages are part of every build (-Dman=enabled), so that a
# build dir never depends on which command ran first.
BUILD_DEPS = meson ninja-build pkg-config gcc g++ libc6-dev libjansson-dev libyaml-dev libcmocka-dev \
	libtomlplusplus-dev scdoc
# demo/run.sh: a private dockerd (docker.io, its containerd and runc; Debian
# 13's client is in docker-cli), Compose (docker-compose), an image made from
# busybox-static, jq
RUN_DEPS = runc busybox-static docker.io docker-cli? containerd docker-compose jq
# tests/run-all: podman and uidmap (rootless podman), crun (test-crun), clang with its
# libFuzzer runtime (libclang-rt-dev: the one of the release's clang),
# valgrind, what test-docs reads (bash-completion, man-db, systemd's
# systemd-analyze), curl (test-doctor pings dockerd), python3 (test-hostile),
# procps (pgrep: test-ps), lintian and what `make deb` needs (test-deb), the
# CRI client of test-cri (python3-grpcio, python3-grpc-tools, the CRI
# api.proto, which Debian 12 lacks: its Architecture: all package from
# Debian 13, see apt-install.sh)
TEST_DEPS = $(RUN_DEPS) podman uidmap crun clang libclang-rt-dev valgrind bash-completion man-db \
	systemd curl python3 procps lintian $(DEB_DEPS) python3-grpcio python3-grpc-tools \
	golang-github-kubernetes-cri-api-dev@trixie $(CROSS_DEPS)
# the suites on the other architecture (tests/e2e/arch-lib.sh): its C
# compiler and C library, for the simulated driver of sim/cross/, and
# qemu-user (Debian 13's qemu-user-static is a transitional package that
# brings qemu-user, static since 10.0)
CROSS_DEPS_x86_64 = gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
CROSS_DEPS_aarch64 = gcc-x86-64-linux-gnu libc6-dev-amd64-cross qemu-user-static
CROSS_DEPS = $(CROSS_DEPS_$(shell uname -m))
BENCH_DEPS = $(RUN_DEPS) python3
# build-essential: dpkg-checkbuilddeps wants it, whatever debian/control says
DEB_DEPS = build-essential dpkg-dev debhelper fakeroot meson ninja-build pkg-config libjansson-dev \
	libyaml-dev libcmocka-dev libtomlplusplus-dev scdoc

.PHONY: all build deps deps-test demo check unit install deb bench fuzz valgrind clean

all: build

apt_install = @tools/apt-install.sh $(1)

deps:
	$(call apt_install,$(BUILD_DEPS))

deps-test: deps
	$(call apt_install,$(TEST_DEPS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX) -Dman=enabled

# A build dir configured without scdoc (by an older `make demo`) gets its
# man pages here: meson re-reads the option only when it changes.
build: deps $(BUILD)/build.ninja
	@meson configure $(BUILD) -Dman=enabled >/dev/null
	ninja -C $(BUILD)

demo: build
	$(call apt_install,$(RUN_DEPS))
	./demo/run.sh $(BUILD)

# the build dir may predate the cross compiler deps-test installs: meson
# looks for it again when the option is set
check: deps-test build
	@meson configure $(BUILD) -Dsim_cross=enabled >/dev/null
	ninja -C $(BUILD)
	tests/run-all $(BUILD) $(BUILD_ASAN)

unit: build
	tests/run-all --unit-only $(BUILD)

# Timings are never part of check: bench/README.md says how to read them.
bench: build
	$(call apt_install,$(BENCH_DEPS))
	@# any gnuplot will do (gnuplot-qt, -x11 or -nox): only the command counts
	@command -v gnuplot >/dev/null || tools/apt-install.sh gnuplot-nox
	bench/run.sh $(BUILD)

# Every libFuzzer target for FUZZ_SECONDS seconds each on its seed corpus.
fuzz: deps
	$(call apt_install,clang libclang-rt-dev)
	@[ -f $(BUILD_FUZZ)/build.ninja ] || CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Dtests=false
	ninja -C $(BUILD_FUZZ)
	tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# The unit tests and the hook (on a runc container) under valgrind.
valgrind: build
	$(call apt_install,valgrind)
	tests/valgrind.sh $(BUILD)

install: build
	meson install -C $(BUILD)

# The package is built from a copy of the working tree (tracked files and
# untracked ones git does not ignore) in $(DEB_DIR)/, so that dpkg-buildpackage
# leaves the tree clean and writes the .deb beside the copy, not into the
# tree's parent. The copy has no .git: .version carries the git version that
# `gctk --version` prints. DEB_BUILD_OPTIONS=nocheck skips the unit tests.
# Then the package of the other architecture (arm64 on amd64), cross-built in
# a pristine root of this release (tools/cross-deb.sh: as root, about two
# minutes; this machine's dpkg never gets the foreign architecture);
# DEB_CROSS_ARCHES= leaves it out.
DEB_CROSS_ARCHES ?= $(filter-out $(shell dpkg --print-architecture 2>/dev/null),amd64 arm64)
deb:
	$(call apt_install,$(DEB_DEPS))
	@set -e; ver=$$(sed -n "s/^  version : '\(.*\)',/\1/p" meson.build); \
	src=$(DEB_DIR)/gctk-$$ver; rm -rf $(DEB_DIR); mkdir -p $$src; \
	git ls-files -z --cached --others --exclude-standard | \
	  tar --null --files-from=- --ignore-failed-read -cf - | tar -C $$src -xf -; \
	tools/version.sh . $$ver > $$src/.version; \
	echo "building the package in $$src (version $$(cat $$src/.version))"; \
	(cd $$src && dpkg-buildpackage -us -uc -b -Jauto >../dpkg-buildpackage.log 2>&1) || \
	  { tail -n 40 $(DEB_DIR)/dpkg-buildpackage.log; echo "make deb: failed, see $(DEB_DIR)/dpkg-buildpackage.log" >&2; exit 1; }; \
	for f in $(DEB_DIR)/gctk_*.deb; do echo "built: $$(realpath $$f)"; done; \
	for a in $(DEB_CROSS_ARCHES); do \
	  if [ "$$(id -u)" != 0 ]; then echo "make deb: the $$a package is built in a pristine root: run as root for it"; continue; fi; \
	  tools/cross-deb.sh $$a $$src $(DEB_DIR) || exit 1; done

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(DEB_DIR)
