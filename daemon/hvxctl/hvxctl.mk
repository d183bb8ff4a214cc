# SPDX-License-Identifier: GPL-2.0
# hvxctl: one file per object (hvxctl_<object>.c), listed in the objects
# table of hvxctl.c.

HVXCTL_SRCS := daemon/hvxctl/hvxctl.c daemon/hvxctl/hvxctl_vm.c \
	daemon/hvxctl/hvxctl_monitor.c daemon/hvxctl/hvxctl_daemon.c
HVXCTL := $(BUILD)/hvxctl
USER_BINS += $(HVXCTL)

$(HVXCTL): $(HVXCTL_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)

install-user:: $(HVXCTL)
	install -D -m 0755 $(HVXCTL) $(DESTDIR)$(PREFIX)/bin/hvxctl
	install -D -m 0644 Documentation/man/hvxctl.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/hvxctl.8
