# SPDX-License-Identifier: GPL-2.0
# Power-management negotiation (issue 7): the wire codec shared by hvxd and
# the guest agent, the host PM table, and hvx-guest-agent. hvxd's engine
# objects are appended below by their own rules.

# The codec alone: no json-c, so the agent links statically.
PM_PROTO_OBJS := $(BUILD)/daemon/pm/pm_proto.o
# What hvxd (and hvxctl-side tests) link for the protocol and the table.
PM_HOST_OBJS := $(PM_PROTO_OBJS) $(BUILD)/daemon/pm/pm_proto_json.o \
	$(BUILD)/daemon/pm/pm_table.o

# hvx-guest-agent goes into guest initramfs images: the -static build is the
# one to copy there (not under SAN=1, whose runtime cannot link statically).
PM_AGENT := $(BUILD)/hvx-guest-agent
USER_BINS += $(PM_AGENT)

# The sysfs reader alone from libhvx: the rest needs libnl and json-c.
PM_AGENT_OBJS := $(BUILD)/daemon/pm/pm_agent.o $(PM_PROTO_OBJS) \
	$(BUILD)/lib/hvx_file.o

$(PM_AGENT): $(PM_AGENT_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^

ifneq ($(SAN),1)
USER_BINS += $(PM_AGENT)-static
$(PM_AGENT)-static: $(PM_AGENT_OBJS)
	$(CC) $(USER_LDFLAGS) -static -o $@ $^
endif

install-user:: $(PM_AGENT)
	install -D -m 0755 $(PM_AGENT) $(DESTDIR)$(PREFIX)/sbin/hvx-guest-agent
	install -D -m 0644 Documentation/man/hvx-guest-agent.8 \
		$(DESTDIR)$(MANDIR)/man8/hvx-guest-agent.8
