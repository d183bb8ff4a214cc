# SPDX-License-Identifier: GPL-2.0
# App protection: check-based unit tests (manifest parsing, signatures,
# hashes, policy and rollback, the verification engine against a real
# primary), and the host integration test of hvxd's install flow.

UNIT_TESTS += $(BUILD)/tests/app/test_app

$(BUILD)/tests/app/test_app.o: USER_CFLAGS += $(CHECK_CFLAGS) $(APP_CFLAGS) -Idaemon/app
$(BUILD)/tests/app/test_app: $(BUILD)/tests/app/test_app.o $(APP_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS) $(CHECK_LIBS)

# End to end on the host: hvx-primary, hvxd's app unit (fork/exec launcher)
# and guests played by hvx-app-agent, over unix sockets in a temp dir.
HOST_TESTS += tests/app/host_app.sh
check-unit: $(BUILD)/hvxd $(BUILD)/hvxctl $(BUILD)/hvx-primary $(BUILD)/hvx-app-agent
