# SPDX-License-Identifier: GPL-2.0
# Userspace library shared by hvxctl, hvxd and the feature units/objects:
# netlink (hvx_nl), JSON output (hvx_json), config (hvx_conf), control
# protocol (hvx_ctl), small sysfs/procfs files (hvx_file). Linked
# statically into each program.

LIBHVX_SRCS := lib/hvx_nl.c lib/hvx_json.c lib/hvx_conf.c lib/hvx_ctl.c \
	lib/hvx_vm.c lib/hvx_file.c
# Fragments that sort before this one name it $(BUILD)/lib/libhvx.a.
LIBHVX := $(BUILD)/lib/libhvx.a

$(LIBHVX): $(LIBHVX_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# Programs report it with --version and in hvxd's core.status.  The header
# is rewritten only when the version changes, so that a commit rebuilds the
# two objects that print it and nothing else.
HVX_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
HVX_VERSION_H := $(BUILD)/hvx_version.h
$(HVX_VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@echo '#define HVX_VERSION "$(HVX_VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
$(BUILD)/daemon/hvxd/hvxd_main.o $(BUILD)/daemon/hvxctl/hvxctl.o: $(HVX_VERSION_H)
$(BUILD)/daemon/hvxd/hvxd_main.o $(BUILD)/daemon/hvxctl/hvxctl.o: \
	USER_CFLAGS += -include $(HVX_VERSION_H)
.PHONY: FORCE
FORCE:
