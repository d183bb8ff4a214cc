/* SPDX-License-Identifier: GPL-2.0 */
/* One JSON object per SOCK_SEQPACKET message, read with jansson. */
#ifndef HVX_APP_MSG_H
#define HVX_APP_MSG_H

#include <string.h>

#include <jansson.h>

#include "app_proto.h"

/*
 * hvxd and hvxctl also link json-c (lib/), which exports json_object_get and
 * json_object_iter_next under the same names as jansson; a program binds each
 * name to one library only.  So app code never calls those two from jansson:
 * lookups go through app_jget() (json_object_getn), and unknown or missing
 * keys are found by json_unpack()'s strict mode instead of iterating.
 */
static inline json_t *app_jget(const json_t *o, const char *key)
{
	return json_object_getn(o, key, strlen(key));
}

int app_msg_send(int fd, json_t *msg);
/* NULL with errno set; EMSGSIZE for an oversized message, EPROTO for bad JSON,
 * ECONNRESET for an orderly shutdown by the peer. */
json_t *app_msg_recv(int fd);

#endif
