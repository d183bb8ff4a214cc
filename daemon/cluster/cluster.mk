# SPDX-License-Identifier: GPL-2.0
# Cluster discovery, trust and join: linked into hvxd as its "cluster" unit.

CLUSTER_SRCS := $(addprefix daemon/cluster/, cluster_wire.c cluster_crypto.c \
	cluster_token.c cluster_store.c cluster_policy.c \
	cluster_conn.c cluster.c cluster_mgr.c cluster_host.c \
	cluster_backend.c cluster_etcd.c)
CLUSTER_OBJS := $(CLUSTER_SRCS:%.c=$(BUILD)/%.o)
CLUSTER_LIBS := $(shell pkg-config --libs openssl libcurl 2>/dev/null || echo -lssl -lcrypto -lcurl)

# The unit joins hvxd's link, the object file hvxctl's (their recipes link
# every .o prerequisite).
$(BUILD)/daemon/cluster/cluster_unit.o: USER_CFLAGS += -Idaemon/hvxd
$(BUILD)/hvxd: $(BUILD)/daemon/cluster/cluster_unit.o $(CLUSTER_OBJS)
$(BUILD)/hvxd: PKG_LIBS += $(CLUSTER_LIBS)
$(BUILD)/hvxctl: $(BUILD)/daemon/hvxctl/hvxctl_cluster.o
