# SPDX-License-Identifier: GPL-2.0
# hvxd: the daemon core plus one hvxd_<unit>.c per unit, listed in the unit
# table of hvxd_main.c.

HVXD_SRCS := daemon/hvxd/hvxd_main.c daemon/hvxd/hvxd_log.c \
	daemon/hvxd/hvxd_bus.c daemon/hvxd/hvxd_ctl.c daemon/hvxd/hvxd_core.c
HVXD := $(BUILD)/hvxd
USER_BINS += $(HVXD)

$(HVXD): $(HVXD_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)
