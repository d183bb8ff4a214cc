# SPDX-License-Identifier: GPL-2.0
# Discovery + join benchmark across network namespaces (root).

.PHONY: bench-discovery
bench-discovery: $(BUILD)/hvxd $(BUILD)/hvxctl
	BUILD=$(BUILD) bench/discovery/discovery.sh $(HOSTS)
