# SPDX-License-Identifier: GPL-2.0
# Power-management negotiation (issue 7): the wire codec shared by hvxd and
# the guest agent, the host PM table, and hvx-guest-agent. hvxd's engine
# objects are appended below by their own rules.

# The codec alone: no json-c, so the agent links statically.
PM_PROTO_OBJS := $(BUILD)/daemon/pm/pm_proto.o
# What hvxd (and hvxctl-side tests) link for the protocol and the table.
PM_HOST_OBJS := $(PM_PROTO_OBJS)
