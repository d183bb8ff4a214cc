# SPDX-License-Identifier: GPL-2.0
# check-based host tests of lib/ (and the daemon pieces that need no kernel).

LIB_UNIT_TESTS := conf json nl ctl

UNIT_TESTS += $(LIB_UNIT_TESTS:%=$(BUILD)/tests/unit/test_%)

$(LIB_UNIT_TESTS:%=$(BUILD)/tests/unit/test_%.o): USER_CFLAGS += $(CHECK_CFLAGS)
$(BUILD)/tests/unit/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/lib/libhvx.a
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
