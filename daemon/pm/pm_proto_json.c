// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's report as JSON, for hvxd's status and logs. Apart from
 * pm_proto.c so that the agent links without json-c.
 */
#include <json-c/json.h>

#include "hvx_json.h"
#include "pm_proto.h"

struct json_object *pm_msg_report_json(const struct pm_msg *m)
{
	const struct pm_report *r = &m->report;
	struct json_object *o, *a;

	if (m->type != PM_MSG_ENABLED && m->type != PM_MSG_REPORT)
		return NULL;
	o = json_object_new_object();
	a = json_object_new_array();
	if (!o || !a || json_object_object_add(o, "states", a)) {
		json_object_put(a);
		goto err;
	}
	if (hvx_json_add_bool(o, "frozen", r->frozen))
		goto err;
	/* No cap is shown as null rather than a magic number. */
	if (r->qos_latency_us == PM_QOS_NONE ?
	    json_object_object_add(o, "qos_latency_us", NULL) :
	    hvx_json_add_u64(o, "qos_latency_us", r->qos_latency_us))
		goto err;
	for (size_t i = 0; i < r->n; i++) {
		const struct pm_state *s = &r->state[i];
		struct json_object *j = json_object_new_object();

		if (!j || json_object_array_add(a, j)) {
			json_object_put(j);
			goto err;
		}
		if (hvx_json_add_u64(j, "index", s->index) ||
		    hvx_json_add_str(j, "name", s->name) ||
		    hvx_json_add_u64(j, "latency_us", s->latency_us) ||
		    hvx_json_add_u64(j, "residency_us", s->residency_us) ||
		    hvx_json_add_bool(j, "disabled", s->disabled))
			goto err;
	}
	return o;
err:
	json_object_put(o);
	return NULL;
}
