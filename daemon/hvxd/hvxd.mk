# SPDX-License-Identifier: GPL-2.0
# hvxd: the daemon core plus one hvxd_<unit>.c per unit, listed in the unit
# table of hvxd_main.c.

HVXD_SRCS := daemon/hvxd/hvxd_main.c daemon/hvxd/hvxd_log.c \
	daemon/hvxd/hvxd_bus.c daemon/hvxd/hvxd_ctl.c daemon/hvxd/hvxd_core.c
HVXD := $(BUILD)/hvxd
USER_BINS += $(HVXD)

$(HVXD): $(HVXD_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS)

# Double-colon: every userspace fragment may add its own install-user.
UNITDIR ?= /lib/systemd/system
MANDIR ?= $(PREFIX)/share/man

install-user:: $(HVXD)
	install -D -m 0755 $(HVXD) $(DESTDIR)$(PREFIX)/sbin/hvxd
	sed 's|/usr/sbin/hvxd|$(PREFIX)/sbin/hvxd|g' daemon/hvxd/hvxd.service \
		>$(BUILD)/hvxd.service
	install -D -m 0644 $(BUILD)/hvxd.service $(DESTDIR)$(UNITDIR)/hvxd.service
	@# Never overwrite an administrator's configuration.
	test -e $(DESTDIR)/etc/hvx/hvxd.conf || \
		install -D -m 0644 daemon/hvxd/hvxd.conf $(DESTDIR)/etc/hvx/hvxd.conf
	install -D -m 0644 Documentation/man/hvxd.8 $(DESTDIR)$(MANDIR)/man8/hvxd.8
	install -D -m 0644 Documentation/man/hvxd.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/hvxd.conf.5
