# SPDX-License-Identifier: GPL-2.0
# check-based unit tests of the cluster codecs, proof, tokens and store.

UNIT_TESTS += $(BUILD)/tests/cluster/test_cluster

$(BUILD)/tests/cluster/test_cluster.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/cluster
$(BUILD)/tests/cluster/test_cluster: $(BUILD)/tests/cluster/test_cluster.o $(CLUSTER_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(CLUSTER_LIBS) $(PKG_LIBS) $(CHECK_LIBS)

UNIT_TESTS += $(BUILD)/tests/cluster/test_cluster_join

$(BUILD)/tests/cluster/test_cluster_join.o: USER_CFLAGS += $(CHECK_CFLAGS) -Idaemon/cluster
$(BUILD)/tests/cluster/test_cluster_join: $(BUILD)/tests/cluster/test_cluster_join.o $(CLUSTER_OBJS)
	$(CC) $(USER_LDFLAGS) -o $@ $^ $(CLUSTER_LIBS) $(PKG_LIBS) $(CHECK_LIBS)

# Namespaces, bridge and one hvxd per node: needs root, skips otherwise.
HOST_TESTS += tests/cluster/netns.sh
check-unit: $(BUILD)/hvxd $(BUILD)/hvxctl
# Two managers on one etcd (Debian etcd-server); skips without etcd.
HOST_TESTS += tests/cluster/etcd.sh
