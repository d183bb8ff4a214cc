# SPDX-License-Identifier: GPL-2.0
#
# The debug-kernel lane: `make check-debug` builds (once; cached outside the
# tree by scripts/debug-kernel) Debian's 6.1 with KASAN, kmemleak, lockdep
# and fault injection, builds our modules against it in a separate tree
# ($(DEBUG_KMOD), so the normal kmod/ build stays as it is), and runs the
# whole VM suite on it. tests/debug/vm-suite adds the strict splat check of
# this lane after the suite; scripts/vm's own checks (hvx splats, kmemleak)
# run as always.
#
# vm_failnth: the allocation-failure sweep. Each module adds its cases in
# tests/<area>/failnth_<area>.c (see tests/debug/failnth.h).

HOST_TESTS += tests/debug/host_splat_check.sh

FAILNTH_SRCS := tests/debug/failnth.c $(sort $(wildcard tests/*/failnth_*.c))
FAILNTH_OBJS := $(FAILNTH_SRCS:%.c=$(BUILD)/%.o)

TEST_BINS += $(BUILD)/tests/vm_failnth

$(FAILNTH_OBJS): USER_CFLAGS += -Itests/debug -Ikmod/core_test
$(BUILD)/tests/vm_failnth: $(FAILNTH_OBJS) $(LIBHVX)
	@mkdir -p $(dir $@)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS)

DEBUG_DIR := $(CURDIR)/$(BUILD)/debug
DEBUG_KMOD := $(DEBUG_DIR)/src/kmod
DEBUG_TIMEOUT ?= 5400

.PHONY: check-debug debug-kernel debug-modules

debug-kernel:
	scripts/debug-kernel

# A copy of kmod/ (sources only; its objects stay between runs) next to an
# include/ link, so the Kbuild files' $(src)/../../include/uapi still
# resolves. 6.1's Kbuild has no separate output directory for external
# modules (MO= came in 6.13).
debug-modules:
	@set -e; kdir=$$(scripts/debug-kernel --kdir); \
	mkdir -p $(DEBUG_DIR)/src; \
	ln -sfn $(CURDIR)/include $(DEBUG_DIR)/src/include; \
	rsync -a --delete --include='*/' --include='*.[chS]' --include=Kbuild \
		--include=Makefile --exclude='*' kmod/ $(DEBUG_KMOD)/; \
	$(MAKE) --no-print-directory modules KDIR=$$kdir HVX_KMOD=$(DEBUG_KMOD)

# Booted with systemd as init, as make check-vm, so that the suite is whole;
# kasan_multi_shot: by default KASAN reports only its first error, and one
# excused at boot would silence every later one.
# KDIR and HVX_KMOD reach the VM (scripts/vm passes them on), so the
# suite's `make install-modules` installs this build for the debug kernel;
# HVX_DEBUG_MODROOT gives tests/debug/vm-suite the kernel's own modules.
check-debug: debug-modules user bpf
	@set -e; eval "$$(scripts/debug-kernel)"; \
	start=$$(date +%s); rc=0; \
	KDIR=$$KDIR HVX_KMOD=$(DEBUG_KMOD) HVX_DEBUG_MODROOT=$$MODROOT \
		scripts/vm --systemd --kernel $$IMAGE --append kasan_multi_shot \
		--timeout $(DEBUG_TIMEOUT) -- tests/debug/vm-suite || rc=$$?; \
	echo "check-debug: VM on $$RELEASE took $$(($$(date +%s) - start)) s (with any wait for the VM lock), exit $$rc"; \
	exit $$rc
