// SPDX-License-Identifier: GPL-2.0
/*
 * The PM negotiation codec; the wire format is described in pm_proto.h.
 * No allocation except a decoded TABLE, no json-c: the guest agent links
 * this statically into an initramfs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pm_proto.h"

struct wr {
	unsigned char *p;
	size_t size, off;
};

struct rd {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static void put8(struct wr *w, uint8_t v)
{
	if (w->off < w->size)
		w->p[w->off] = v;
	w->off++;
}

static void put16(struct wr *w, uint16_t v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void put32(struct wr *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v);
}

static void put64(struct wr *w, uint64_t v)
{
	put32(w, v >> 32);
	put32(w, v);
}

static void put_name(struct wr *w, const char *name)
{
	size_t n = strnlen(name, PM_NAME_LEN - 1);

	for (size_t i = 0; i < PM_NAME_LEN; i++)
		put8(w, i < n ? (uint8_t)name[i] : 0);
}

static uint8_t get8(struct rd *r)
{
	if (r->off >= r->len) {
		r->bad = true;
		return 0;
	}
	return r->p[r->off++];
}

static uint16_t get16(struct rd *r)
{
	uint16_t hi = get8(r);

	return hi << 8 | get8(r);
}

static uint32_t get32(struct rd *r)
{
	uint32_t hi = get16(r);

	return hi << 16 | get16(r);
}

static uint64_t get64(struct rd *r)
{
	uint64_t hi = get32(r);

	return hi << 32 | get32(r);
}

static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* NUL-padded, printable, at least one character. */
static void get_name(struct rd *r, char *name)
{
	bool end = false;

	for (size_t i = 0; i < PM_NAME_LEN; i++) {
		unsigned char c = get8(r);

		if (!c)
			end = true;
		else if (end || !printable(c))
			r->bad = true;
		name[i] = (char)c;
	}
	if (!end || !name[0])
		r->bad = true;
	name[PM_NAME_LEN - 1] = '\0';
}

static void get_zero(struct rd *r, size_t n)
{
	while (n--)
		if (get8(r))
			r->bad = true;
}

static void put_text(struct wr *w, const char *s)
{
	size_t n = strnlen(s, PM_TEXT_MAX);

	put16(w, n);
	for (size_t i = 0; i < n; i++)
		put8(w, printable(s[i]) ? s[i] : '?');
}

static void get_text(struct rd *r, char *s)
{
	uint16_t n = get16(r);

	if (n > PM_TEXT_MAX) {
		r->bad = true;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		s[i] = (char)get8(r);
		if (!printable(s[i]))
			r->bad = true;
	}
	s[n] = '\0';
}

static void hdr(struct wr *w, uint8_t type, uint32_t seq)
{
	put32(w, PM_PROTO_MAGIC);
	put8(w, PM_PROTO_VERSION);
	put8(w, type);
	put16(w, 0);
	put32(w, seq);
	put32(w, 0);	/* len, patched by finish() */
}

static ssize_t finish(struct wr *w)
{
	size_t len = w->off - PM_HDR_LEN;

	if (w->off > w->size)
		return -ENOSPC;
	w->p[12] = len >> 24;
	w->p[13] = len >> 16;
	w->p[14] = len >> 8;
	w->p[15] = len;
	return w->off;
}

static ssize_t encode_empty(void *buf, size_t size, uint8_t type, uint32_t seq)
{
	struct wr w = { buf, size, 0 };

	hdr(&w, type, seq);
	return finish(&w);
}

ssize_t pm_msg_encode_hello(void *buf, size_t size, uint32_t seq)
{
	struct wr w = { buf, size, 0 };

	hdr(&w, PM_MSG_HELLO, seq);
	put16(&w, PM_PROTO_VERSION);
	put16(&w, PM_PROTO_VERSION);
	return finish(&w);
}

ssize_t pm_msg_encode_freeze(void *buf, size_t size, uint32_t seq)
{
	return encode_empty(buf, size, PM_MSG_FREEZE, seq);
}

ssize_t pm_msg_encode_frozen(void *buf, size_t size, uint32_t seq)
{
	return encode_empty(buf, size, PM_MSG_FROZEN, seq);
}

ssize_t pm_msg_encode_abort(void *buf, size_t size, uint32_t seq)
{
	return encode_empty(buf, size, PM_MSG_ABORT, seq);
}

ssize_t pm_msg_encode_status(void *buf, size_t size, uint32_t seq)
{
	return encode_empty(buf, size, PM_MSG_STATUS, seq);
}

static bool cst_valid(const struct pm_cst *c)
{
	return c->type >= 1 && c->type <= 3 && c->method < __PM_CST_METHOD_MAX &&
	       c->name[0];
}

ssize_t pm_msg_encode_table(void *buf, size_t size, uint32_t seq,
			    const struct pm_table *t)
{
	struct wr w = { buf, size, 0 };

	if (!t->n || t->n > PM_CST_MAX)
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++)
		if (!cst_valid(&t->cst[i]))
			return -EINVAL;
	hdr(&w, PM_MSG_TABLE, seq);
	put8(&w, t->n);
	put8(&w, 0);
	put16(&w, 0);
	for (size_t i = 0; i < t->n; i++) {
		const struct pm_cst *c = &t->cst[i];

		put8(&w, c->type);
		put8(&w, c->method);
		put16(&w, 0);
		put32(&w, c->latency_us);
		put32(&w, c->power_mw);
		put64(&w, c->address);
		put_name(&w, c->name);
	}
	return finish(&w);
}

static ssize_t encode_set(void *buf, size_t size, uint8_t type, uint32_t seq,
			  uint32_t accepted)
{
	struct wr w = { buf, size, 0 };

	if (!accepted || accepted >> PM_CST_MAX)
		return -EINVAL;
	hdr(&w, type, seq);
	put32(&w, accepted);
	return finish(&w);
}

ssize_t pm_msg_encode_ack(void *buf, size_t size, uint32_t seq, uint32_t accepted)
{
	return encode_set(buf, size, PM_MSG_ACK, seq, accepted);
}

ssize_t pm_msg_encode_enable(void *buf, size_t size, uint32_t seq, uint32_t accepted)
{
	return encode_set(buf, size, PM_MSG_ENABLE, seq, accepted);
}

ssize_t pm_msg_encode_nak(void *buf, size_t size, uint32_t seq, const char *why)
{
	struct wr w = { buf, size, 0 };

	hdr(&w, PM_MSG_NAK, seq);
	put_text(&w, why);
	return finish(&w);
}

ssize_t pm_msg_encode_error(void *buf, size_t size, uint32_t seq, int err,
			    const char *why)
{
	struct wr w = { buf, size, 0 };

	if (err <= 0)
		return -EINVAL;
	hdr(&w, PM_MSG_ERROR, seq);
	put32(&w, err);
	put_text(&w, why);
	return finish(&w);
}

static ssize_t encode_report(void *buf, size_t size, uint8_t type, uint32_t seq,
			     const struct pm_report *r)
{
	struct wr w = { buf, size, 0 };

	if (r->n > PM_STATE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++)
		if (!r->state[i].name[0])
			return -EINVAL;
	hdr(&w, type, seq);
	put32(&w, r->qos_latency_us);
	put8(&w, r->frozen);
	put8(&w, r->n);
	put16(&w, 0);
	for (size_t i = 0; i < r->n; i++) {
		const struct pm_state *s = &r->state[i];

		put8(&w, s->index);
		put8(&w, s->disabled);
		put16(&w, 0);
		put32(&w, s->latency_us);
		put32(&w, s->residency_us);
		put_name(&w, s->name);
	}
	return finish(&w);
}

ssize_t pm_msg_encode_enabled(void *buf, size_t size, uint32_t seq,
			      const struct pm_report *r)
{
	return encode_report(buf, size, PM_MSG_ENABLED, seq, r);
}

ssize_t pm_msg_encode_report(void *buf, size_t size, uint32_t seq,
			     const struct pm_report *r)
{
	return encode_report(buf, size, PM_MSG_REPORT, seq, r);
}

static bool get_bool(struct rd *r)
{
	uint8_t v = get8(r);

	if (v > 1)
		r->bad = true;
	return v;
}

static void decode_report(struct rd *r, struct pm_report *rep)
{
	rep->qos_latency_us = get32(r);
	rep->frozen = get_bool(r);
	rep->n = get8(r);
	get_zero(r, 2);
	if (rep->n > PM_STATE_MAX) {
		r->bad = true;
		return;
	}
	for (size_t i = 0; i < rep->n && !r->bad; i++) {
		struct pm_state *s = &rep->state[i];

		s->index = get8(r);
		s->disabled = get_bool(r);
		get_zero(r, 2);
		s->latency_us = get32(r);
		s->residency_us = get32(r);
		get_name(r, s->name);
	}
}

static void decode_table(struct rd *r, struct pm_table *t)
{
	size_t n = get8(r);

	get_zero(r, 3);
	if (!n || n > PM_CST_MAX || r->len - r->off != n * PM_CST_WIRE) {
		r->bad = true;
		return;
	}
	t->cst = calloc(n, sizeof(*t->cst));
	if (!t->cst) {
		r->bad = true;
		return;
	}
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		struct pm_cst *c = &t->cst[i];

		c->type = get8(r);
		c->method = get8(r);
		get_zero(r, 2);
		c->latency_us = get32(r);
		c->power_mw = get32(r);
		c->address = get64(r);
		get_name(r, c->name);
		if (!cst_valid(c))
			r->bad = true;
	}
}

static int decode_payload(struct rd *r, struct pm_msg *m)
{
	switch (m->type) {
	case PM_MSG_HELLO:
		m->min_version = get16(r);
		m->max_version = get16(r);
		if (!m->min_version || m->min_version > m->max_version)
			r->bad = true;
		break;
	case PM_MSG_FREEZE:
	case PM_MSG_FROZEN:
	case PM_MSG_ABORT:
	case PM_MSG_STATUS:
		break;
	case PM_MSG_TABLE:
		decode_table(r, &m->table);
		break;
	case PM_MSG_ACK:
	case PM_MSG_ENABLE:
		m->accepted = get32(r);
		if (!m->accepted || m->accepted >> PM_CST_MAX)
			r->bad = true;
		break;
	case PM_MSG_NAK:
		get_text(r, m->text);
		break;
	case PM_MSG_ERROR:
		m->error = (int32_t)get32(r);
		if (m->error <= 0)
			r->bad = true;
		get_text(r, m->text);
		break;
	case PM_MSG_ENABLED:
	case PM_MSG_REPORT:
		decode_report(r, &m->report);
		break;
	default:
		r->bad = true;
	}
	/* Exactly the bytes the type needs: trailing bytes are garbage too. */
	if (r->bad || r->off != r->len) {
		pm_msg_release(m);
		return -EBADMSG;
	}
	return 1;
}

int pm_msg_decode(const void *buf, size_t len, struct pm_msg *m, size_t *used)
{
	static const unsigned char magic[4] = { 0x48, 0x56, 0x58, 0x50 };
	const unsigned char *p = buf;
	struct rd h = { p, len < PM_HDR_LEN ? len : PM_HDR_LEN, 0, false };
	struct rd r;
	uint32_t plen;

	if (!len)
		return 0;
	/* Refuse a bad prefix at once rather than waiting for 16 bytes. */
	if (memcmp(p, magic, len < 4 ? len : 4))
		return -EBADMSG;
	if (len > 4 && p[4] != PM_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (len > 5 && (!p[5] || p[5] >= __PM_MSG_MAX))
		return -EBADMSG;
	if ((len > 6 && p[6]) || (len > 7 && p[7]))
		return -EBADMSG;
	if (len < PM_HDR_LEN)
		return 0;
	h.off = 8;
	memset(m, 0, sizeof(*m));
	m->type = p[5];
	m->seq = get32(&h);
	plen = get32(&h);
	if (plen > PM_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (len - PM_HDR_LEN < plen)
		return 0;
	r = (struct rd){ p + PM_HDR_LEN, plen, 0, false };
	*used = PM_HDR_LEN + plen;
	return decode_payload(&r, m);
}

void pm_msg_release(struct pm_msg *m)
{
	pm_table_release(&m->table);
}

void pm_table_release(struct pm_table *t)
{
	free(t->cst);
	t->cst = NULL;
	t->n = 0;
}

const char *pm_msg_type_name(unsigned int type)
{
	static const char *const names[__PM_MSG_MAX] = {
		[PM_MSG_HELLO] = "hello",	[PM_MSG_FREEZE] = "freeze",
		[PM_MSG_FROZEN] = "frozen",	[PM_MSG_TABLE] = "table",
		[PM_MSG_ACK] = "ack",		[PM_MSG_NAK] = "nak",
		[PM_MSG_ENABLE] = "enable",	[PM_MSG_ENABLED] = "enabled",
		[PM_MSG_ABORT] = "abort",	[PM_MSG_STATUS] = "status",
		[PM_MSG_REPORT] = "report",	[PM_MSG_ERROR] = "error",
	};

	return type < __PM_MSG_MAX && names[type] ? names[type] : "unknown";
}

uint32_t pm_msg_accepted(const struct pm_msg *m)
{
	return m->type == PM_MSG_ACK || m->type == PM_MSG_ENABLE ? m->accepted : 0;
}

const char *pm_msg_reason(const struct pm_msg *m)
{
	return m->type == PM_MSG_NAK || m->type == PM_MSG_ERROR ? m->text : NULL;
}

static bool round_seen(const struct pm_round *r, uint32_t seq)
{
	unsigned int n = r->nseen < PM_ROUND_HISTORY ? r->nseen : PM_ROUND_HISTORY;

	for (unsigned int i = 0; i < n; i++)
		if (r->seen[i] == seq)
			return true;
	return false;
}

int pm_round_check(struct pm_round *r, const struct pm_msg *m)
{
	switch (m->type) {
	case PM_MSG_HELLO:
	case PM_MSG_STATUS:
		return 0;
	case PM_MSG_FREEZE:
		if (round_seen(r, m->seq))
			return -ESTALE;
		/* A new round replaces an abandoned one: the host moved on. */
		r->seen[r->nseen++ % PM_ROUND_HISTORY] = m->seq;
		r->seq = m->seq;
		r->phase = PM_ROUND_FROZEN;
		return 0;
	case PM_MSG_TABLE:
	case PM_MSG_ENABLE:
	case PM_MSG_ABORT:
		break;
	default:
		/* Guest-to-host types have no business here. */
		return -EPROTO;
	}
	if (r->phase == PM_ROUND_NONE || m->seq != r->seq)
		return round_seen(r, m->seq) || r->phase != PM_ROUND_NONE ?
		       -ESTALE : -EPROTO;
	if (m->type == PM_MSG_ABORT) {
		r->phase = PM_ROUND_NONE;
		return 0;
	}
	if (m->type == PM_MSG_TABLE) {
		if (r->phase != PM_ROUND_FROZEN)
			return -EPROTO;
		r->phase = PM_ROUND_OFFERED;
		return 0;
	}
	if (r->phase != PM_ROUND_ACKED)
		return -EPROTO;
	r->phase = PM_ROUND_NONE;
	return 0;
}

void pm_round_acked(struct pm_round *r)
{
	if (r->phase == PM_ROUND_OFFERED)
		r->phase = PM_ROUND_ACKED;
}

void pm_round_close(struct pm_round *r)
{
	r->phase = PM_ROUND_NONE;
}
