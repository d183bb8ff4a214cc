# SPDX-License-Identifier: GPL-2.0
# App protection: signed manifests, the primary policy source (hvx-primary),
# the verification engine and the launcher, linked into hvxd as its "app"
# unit and into hvxctl as "hvxctl app".

APP_SRCS := $(addprefix daemon/app/, app_crypto.c app_manifest.c app_proto.c \
	app_policy.c app_verify.c app_launch.c)
APP_OBJS := $(APP_SRCS:%.c=$(BUILD)/%.o)
APP_CFLAGS := $(shell pkg-config --cflags jansson openssl 2>/dev/null)
APP_LIBS := $(shell pkg-config --libs jansson openssl libsystemd 2>/dev/null)

$(APP_OBJS) $(BUILD)/daemon/app/hvx_primary.o: USER_CFLAGS += $(APP_CFLAGS)

USER_BINS += $(BUILD)/hvx-primary

$(BUILD)/hvx-primary: $(BUILD)/daemon/app/hvx_primary.o $(APP_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS)

# hvxctl app: the object file and the engine join hvxctl's link.
$(BUILD)/daemon/hvxctl/hvxctl_app.o: USER_CFLAGS += -Idaemon/app
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_app.o $(APP_OBJS)
# libhvx and its libraries again after our objects, so that the archive
# resolves what they use from lib/.
APP_HVXCTL_LIBS := $(BUILD)/lib/libhvx.a $(APP_LIBS) $(PKG_LIBS)
$(BUILD)/hvxctl: PKG_LIBS += $(APP_HVXCTL_LIBS)
