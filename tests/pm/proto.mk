# SPDX-License-Identifier: GPL-2.0
# check-based unit tests of the PM wire codec, the host PM table and
# hvx-guest-agent (issue 7, guest side and protocol).

UNIT_TESTS += $(BUILD)/tests/pm/test_pm_proto

$(BUILD)/tests/pm/test_pm_proto.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/pm
$(BUILD)/tests/pm/test_pm_proto: $(BUILD)/tests/pm/test_pm_proto.o $(PM_HOST_OBJS) \
		$(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
