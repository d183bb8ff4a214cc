# SPDX-License-Identifier: GPL-2.0
# App protection: check-based unit tests (manifest parsing, signatures,
# hashes, policy and rollback, the verification engine against a real
# primary), and the host integration test of hvxd's install flow.

APP_CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
APP_CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

UNIT_TESTS += $(BUILD)/tests/app/test_app

$(BUILD)/tests/app/test_app.o: USER_CFLAGS += $(APP_CHECK_CFLAGS) $(APP_CFLAGS) -Idaemon/app
$(BUILD)/tests/app/test_app: $(BUILD)/tests/app/test_app.o $(APP_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS) $(APP_CHECK_LIBS)
