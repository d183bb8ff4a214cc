# SPDX-License-Identifier: GPL-2.0
# App protection: signed manifests, the primary policy source (hvx-primary),
# the verification engine and the launcher, linked into hvxd as its "app"
# unit and into hvxctl as "hvxctl app".

APP_SRCS := $(addprefix daemon/app/, app_crypto.c app_manifest.c app_proto.c \
	app_policy.c app_verify.c app_launch.c app_guest.c)
APP_OBJS := $(APP_SRCS:%.c=$(BUILD)/%.o)
APP_CFLAGS := $(shell pkg-config --cflags jansson openssl 2>/dev/null)
APP_LIBS := $(shell pkg-config --libs jansson openssl libsystemd 2>/dev/null)

$(APP_OBJS) $(BUILD)/daemon/app/hvx_primary.o $(BUILD)/daemon/app/hvx_app_agent.o: \
	USER_CFLAGS += $(APP_CFLAGS)

# hvx-primary runs in the primary VM, hvx-app-agent in a guest.
USER_BINS += $(BUILD)/hvx-primary $(BUILD)/hvx-app-agent

$(BUILD)/hvx-primary: $(BUILD)/daemon/app/hvx_primary.o $(APP_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS)

$(BUILD)/hvx-app-agent: $(BUILD)/daemon/app/hvx_app_agent.o $(APP_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(APP_LIBS)

# The "app" unit joins hvxd's link (its recipe links every .o prerequisite).
$(BUILD)/daemon/app/app_unit.o: USER_CFLAGS += -Idaemon/hvxd
$(BUILD)/hvxd: $(BUILD)/daemon/app/app_unit.o $(APP_OBJS)
$(BUILD)/hvxd: PKG_LIBS += $(APP_LIBS)

# hvxctl app: the object file and the engine join hvxctl's link.
$(BUILD)/daemon/hvxctl/hvxctl_app.o: USER_CFLAGS += -Idaemon/app
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_app.o $(APP_OBJS)
$(BUILD)/hvxctl: PKG_LIBS += $(APP_LIBS)

install-user:: $(BUILD)/hvx-primary $(BUILD)/hvx-app-agent
	install -D -m 0755 $(BUILD)/hvx-primary $(DESTDIR)$(PREFIX)/sbin/hvx-primary
	install -D -m 0755 $(BUILD)/hvx-app-agent $(DESTDIR)$(PREFIX)/bin/hvx-app-agent
	sed 's|/usr/sbin/hvx-primary|$(PREFIX)/sbin/hvx-primary|g' \
		daemon/app/hvx-primary.service >$(BUILD)/hvx-primary.service
	install -D -m 0644 $(BUILD)/hvx-primary.service \
		$(DESTDIR)$(UNITDIR)/hvx-primary.service
	install -D -m 0644 Documentation/hvx-app-manifest.rst \
		$(DESTDIR)$(PREFIX)/share/doc/hvx/hvx-app-manifest.rst
