# SPDX-License-Identifier: GPL-2.0
#
# hvx top-level build. `make` builds the kernel modules (out of tree, against
# Debian's 6.1 build tree), the userspace tools and the BPF tools.
#
# Each part adds itself through a fragment (lib/lib.mk, daemon/*/*.mk,
# tests/*/*.mk, bench/*/*.mk, bpf/bpf.mk) that appends to the lists below, so
# this file never needs to know a part's sources.

KDIR ?= $(firstword $(wildcard /lib/modules/6.1.*-amd64/build))
# A KDIR outside /lib/modules (make check-debug builds one) names its
# release in the tree; Debian's headers there say 6.1.N, not the uname -r.
KVER ?= $(or $(patsubst /lib/modules/%/build,%,$(filter /lib/modules/%/build,$(KDIR))),\
	$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null))
# The module tree Kbuild builds; make check-debug points it at a copy.
HVX_KMOD ?= $(CURDIR)/kmod
BUILD ?= build
SAN ?= 0
V ?= 0

CC ?= cc
PKGS := libnl-3.0 libnl-genl-3.0 libsystemd json-c inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -Iinclude/uapi -Ilib $(PKG_CFLAGS)
USER_LDFLAGS :=
# Every check-based test runs through tests/hvx_check.h.
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null) -Itests
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
ifeq ($(SAN),1)
USER_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
USER_LDFLAGS += -fsanitize=address,undefined
endif

# Lists the fragments append to.
USER_BINS :=		# installed programs: $(BUILD)/<name>
UNIT_TESTS :=		# check-based host tests, run plain and under ASan/UBSan
HOST_TESTS :=		# other host-side TAP tests (scripts), run once
TEST_BINS :=		# helpers the in-VM tests run from $(BUILD)/tests
BENCH_BINS :=
BPF_BINS :=

.PHONY: all modules user bpf check check-unit check-vm check-san run \
	install install-modules install-user lint checkpatch sparse clean help
all: modules user bpf

FRAGMENTS := $(sort $(wildcard lib/*.mk daemon/*/*.mk tests/*/*.mk \
	bench/*/*.mk bench/*.mk bpf/*.mk kmod/*.mk scripts/*.mk))
include $(FRAGMENTS)

user: $(USER_BINS) $(TEST_BINS) $(BENCH_BINS) $(UNIT_TESTS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

modules:
	@test -n "$(KDIR)" || { echo "hvx: no Debian 6.1 build tree; run scripts/setup" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(HVX_KMOD) W=$(W) C=$(C) modules

sparse:
	$(MAKE) -C $(KDIR) M=$(HVX_KMOD) W=1 C=2 modules

checkpatch:
	scripts/checkpatch

lint: checkpatch sparse

# Unit tests first (fast, host), then the in-VM suite (one boot).
check: check-unit check-vm

check-unit: $(UNIT_TESTS)
	@tests/tap-run --name unit $(UNIT_TESTS) $(HOST_TESTS)
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN=1 check-san

check-san: $(UNIT_TESTS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/tap-run --name unit-asan $(UNIT_TESTS)

# One boot, with systemd as init so that hvxd.service runs as users get it,
# and two NICs on a QEMU hub for hvx_poll.
check-vm: all
	scripts/vm --systemd --nics 2 --timeout 1800 -- tests/run-vm

run: all
	scripts/vm --systemd

# install-user is defined by the userspace fragments (binaries, unit, config,
# man pages under $(DESTDIR)$(PREFIX)).
PREFIX ?= /usr
install: install-modules install-user

install-modules: modules
	$(MAKE) -C $(KDIR) M=$(HVX_KMOD) INSTALL_MOD_DIR=extra \
		INSTALL_MOD_PATH=$(DESTDIR) modules_install
	depmod -a $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

clean:
	$(MAKE) -C $(KDIR) M=$(HVX_KMOD) clean 2>/dev/null || true
	rm -rf $(BUILD)

help:
	@echo "make            build modules, userspace and BPF tools"
	@echo "make check      all tests: host unit tests (plain + ASan/UBSan), then the VM suite"
	@echo "make run        boot a VM with the modules loaded and hvxd running"
	@echo "make lint       checkpatch --strict and sparse on kmod/"
