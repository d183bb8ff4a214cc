# SPDX-License-Identifier: GPL-2.0
# Every YNL spec against its uapi header (host, python3-yaml).
HOST_TESTS += tests/spec/spec-check
