// SPDX-License-Identifier: GPL-2.0
/*
 * Inter-unit events. Publishing only queues: the loop delivers from a defer
 * source, so a publisher never runs a subscriber's code inside its own
 * call stack and units stay independent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvxd_priv.h"

struct hvxd_sub {
	struct hvxd_sub *next;
	char *prefix;
	hvxd_event_fn fn;
	void *userdata;
	bool dead;	/* unsubscribed during delivery */
};

struct hvxd_ev {
	struct hvxd_ev *next;
	char *topic;
	struct json_object *data;
};

static bool delivering;

int hvxd_subscribe(struct hvxd *d, const char *prefix, hvxd_event_fn fn,
		   void *userdata)
{
	struct hvxd_sub *s = calloc(1, sizeof(*s)), **p;

	if (!s || !(s->prefix = strdup(prefix))) {
		free(s);
		return -ENOMEM;
	}
	s->fn = fn;
	s->userdata = userdata;
	/* Append: subscribers hear events in subscription order. */
	for (p = &d->subs; *p; p = &(*p)->next)
		;
	*p = s;
	return 0;
}

static void reap(struct hvxd *d)
{
	for (struct hvxd_sub **p = &d->subs; *p;) {
		struct hvxd_sub *s = *p;

		if (!s->dead) {
			p = &s->next;
			continue;
		}
		*p = s->next;
		free(s->prefix);
		free(s);
	}
}

void hvxd_unsubscribe(struct hvxd *d, hvxd_event_fn fn, void *userdata)
{
	for (struct hvxd_sub *s = d->subs; s; s = s->next)
		if (s->fn == fn && s->userdata == userdata)
			s->dead = true;
	if (!delivering)
		reap(d);
}

int hvxd_publish(struct hvxd *d, const char *topic, struct json_object *data)
{
	struct hvxd_ev *ev = calloc(1, sizeof(*ev));

	if (!ev || !(ev->topic = strdup(topic))) {
		free(ev);
		return -ENOMEM;
	}
	ev->data = json_object_get(data);
	*d->ev_tail = ev;
	d->ev_tail = &ev->next;
	return sd_event_source_set_enabled(d->ev_defer, SD_EVENT_ON);
}

static int deliver(sd_event_source *s, void *userdata)
{
	struct hvxd *d = userdata;
	struct hvxd_ev *ev;

	/* Events published while delivering wait for the next iteration. */
	ev = d->ev_head;
	d->ev_head = NULL;
	d->ev_tail = &d->ev_head;
	sd_event_source_set_enabled(s, SD_EVENT_OFF);
	delivering = true;
	while (ev) {
		struct hvxd_ev *next = ev->next;

		for (struct hvxd_sub *sub = d->subs; sub; sub = sub->next)
			if (!sub->dead &&
			    !strncmp(ev->topic, sub->prefix, strlen(sub->prefix)))
				sub->fn(d, ev->topic, ev->data, sub->userdata);
		json_object_put(ev->data);
		free(ev->topic);
		free(ev);
		ev = next;
	}
	delivering = false;
	reap(d);
	return 0;
}

int hvxd_bus_init(struct hvxd *d)
{
	int ret;

	d->ev_tail = &d->ev_head;
	ret = sd_event_add_defer(d->event, &d->ev_defer, deliver, d);
	if (ret < 0)
		return ret;
	return sd_event_source_set_enabled(d->ev_defer, SD_EVENT_OFF);
}

void hvxd_bus_fini(struct hvxd *d)
{
	struct hvxd_ev *ev = d->ev_head;

	while (ev) {
		struct hvxd_ev *next = ev->next;

		json_object_put(ev->data);
		free(ev->topic);
		free(ev);
		ev = next;
	}
	d->ev_head = NULL;
	d->ev_tail = &d->ev_head;
	for (struct hvxd_sub *s = d->subs; s; s = s->next)
		s->dead = true;
	reap(d);
	sd_event_source_unref(d->ev_defer);
	d->ev_defer = NULL;
}
