# SPDX-License-Identifier: GPL-2.0
# check-based unit tests of the PM wire codec, the host PM table and
# hvx-guest-agent (issue 7, guest side and protocol).

UNIT_TESTS += $(BUILD)/tests/pm/test_pm_proto

$(BUILD)/tests/pm/test_pm_proto.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/pm
$(BUILD)/tests/pm/test_pm_proto: $(BUILD)/tests/pm/test_pm_proto.o $(PM_HOST_OBJS) \
		$(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The agent test runs the real binary of the same build (plain or SAN=1).
UNIT_TESTS += $(BUILD)/tests/pm/test_pm_agent

$(BUILD)/tests/pm/test_pm_agent.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/pm \
	-DPM_AGENT='"$(PM_AGENT)"'
$(BUILD)/tests/pm/test_pm_agent: $(BUILD)/tests/pm/test_pm_agent.o $(PM_PROTO_OBJS) \
		| $(PM_AGENT)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(CHECK_LIBS)
