# SPDX-License-Identifier: GPL-2.0
# App protection: install verifications per second end to end (guest
# request in, decision out, through hvxd and hvx-primary) against bare
# libcrypto SHA-256 + Ed25519 on the same bytes, in the same run.

BENCH_BINS += $(BUILD)/bench/appprot/bench_appprot

# Spelled out: bench/ fragments are read before daemon/app/app.mk.
BENCH_APPPROT_OBJS := $(addprefix $(BUILD)/daemon/app/, app_crypto.o \
	app_manifest.o app_proto.o app_guest.o)

$(BUILD)/bench/appprot/bench_appprot.o: USER_CFLAGS += -Idaemon/app
$(BUILD)/bench/appprot/bench_appprot: $(BUILD)/bench/appprot/bench_appprot.o $(BENCH_APPPROT_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS)
