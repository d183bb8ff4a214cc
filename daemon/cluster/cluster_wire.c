// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cluster_crypto.h"
#include "cluster_wire.h"

struct wbuf {
	uint8_t *p;
	size_t len, size;
	bool overflow;
};

static void put(struct wbuf *w, const void *data, size_t len)
{
	if (w->overflow || len > w->size - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, data, len);
	w->len += len;
}

static void put_attr(struct wbuf *w, uint16_t type, const void *data,
		     size_t len)
{
	uint8_t hdr[4] = { type >> 8, type & 0xff, len >> 8, len & 0xff };

	if (len > 0xffff) {
		w->overflow = true;
		return;
	}
	put(w, hdr, sizeof(hdr));
	put(w, data, len);
}

static void put_str(struct wbuf *w, uint16_t type, const char *s)
{
	if (*s)
		put_attr(w, type, s, strlen(s));
}

static void put_u64(struct wbuf *w, uint16_t type, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (56 - 8 * i);
	put_attr(w, type, b, sizeof(b));
}

static void put_hdr(struct wbuf *w, enum cluster_msg_type type)
{
	uint8_t hdr[CLUSTER_WIRE_HDR] = { 'H', 'V', 'X', 'C',
					  CLUSTER_WIRE_VERSION, type, 0, 0 };

	put(w, hdr, sizeof(hdr));
}

static int finish(struct wbuf *w)
{
	if (w->overflow || w->len > CLUSTER_WIRE_MAX)
		return -EMSGSIZE;
	w->p[6] = w->len >> 8;
	w->p[7] = w->len & 0xff;
	return w->len;
}

static void put_facts(struct wbuf *w, const struct cluster_facts *f)
{
	put_str(w, CLUSTER_A_CPU_MODEL, f->cpu_model);
	put_str(w, CLUSTER_A_FEATURES, f->features);
	put_u64(w, CLUSTER_A_MEMORY_MB, f->memory_mb);
	put_str(w, CLUSTER_A_MODULES, f->modules);
	put_str(w, CLUSTER_A_LABELS, f->labels);
}

int cluster_discover_encode(const struct cluster_discover *d, uint8_t *buf,
			    size_t size)
{
	struct wbuf w = { .p = buf, .size = size };

	put_hdr(&w, CLUSTER_MSG_DISCOVER);
	put_attr(&w, CLUSTER_A_HOST_ID, d->host_id, sizeof(d->host_id));
	put_attr(&w, CLUSTER_A_NONCE, d->nonce, sizeof(d->nonce));
	put_str(&w, CLUSTER_A_TOKEN_ID, d->token_id);
	put_str(&w, CLUSTER_A_HOSTNAME, d->hostname);
	put_facts(&w, &d->facts);
	return finish(&w);
}

int cluster_answer_encode(const struct cluster_answer *a, const void *secret,
			  size_t secret_len, uint8_t *buf, size_t size)
{
	struct wbuf w = { .p = buf, .size = size };
	uint8_t port[2] = { a->tls_port >> 8, a->tls_port & 0xff };
	uint8_t proof[CLUSTER_PROOF_LEN];
	size_t signed_len;
	int len;

	put_hdr(&w, CLUSTER_MSG_ANSWER);
	put_attr(&w, CLUSTER_A_HOST_ID, a->host_id, sizeof(a->host_id));
	put_attr(&w, CLUSTER_A_NONCE, a->nonce, sizeof(a->nonce));
	put_attr(&w, CLUSTER_A_CLUSTER_ID, a->cluster_id,
		 sizeof(a->cluster_id));
	put_attr(&w, CLUSTER_A_FINGERPRINT, a->fingerprint,
		 sizeof(a->fingerprint));
	put_attr(&w, CLUSTER_A_TLS_PORT, port, sizeof(port));
	put_attr(&w, CLUSTER_A_STATUS, &a->status, 1);
	put_str(&w, CLUSTER_A_REASON, a->reason);
	put_str(&w, CLUSTER_A_MANAGER, a->manager);
	if (!secret)
		return finish(&w);

	/* The length in the header is signed too: fix it before the MAC. */
	signed_len = w.len;
	memset(proof, 0, sizeof(proof));
	put_attr(&w, CLUSTER_A_PROOF, proof, sizeof(proof));
	len = finish(&w);
	if (len < 0)
		return len;
	cluster_hmac(secret, secret_len, buf, signed_len, proof);
	memcpy(buf + len - sizeof(proof), proof, sizeof(proof));
	return len;
}

bool cluster_answer_verify(const struct cluster_answer *a, const uint8_t *buf,
			   const void *secret, size_t secret_len)
{
	uint8_t mac[CLUSTER_PROOF_LEN];

	if (!a->has_proof)
		return false;
	cluster_hmac(secret, secret_len, buf, a->signed_len, mac);
	return CRYPTO_memcmp(mac, a->proof, sizeof(mac)) == 0;
}

/* Decoding: the shape each attribute must have, by message type. */
enum akind { A_BYTES, A_STR, A_U8, A_U16, A_U64 };

struct aspec {
	enum akind kind;
	size_t len;		/* A_BYTES: exact; A_STR: max incl. NUL */
	bool discover, answer, required;
};

static const struct aspec aspecs[__CLUSTER_A_MAX] = {
	[CLUSTER_A_HOST_ID] = { A_BYTES, CLUSTER_ID_LEN, true, true, true },
	[CLUSTER_A_NONCE] = { A_BYTES, CLUSTER_NONCE_LEN, true, true, true },
	[CLUSTER_A_TOKEN_ID] = { A_STR, CLUSTER_TOKEN_ID_MAX, true, false, false },
	[CLUSTER_A_HOSTNAME] = { A_STR, CLUSTER_NAME_MAX, true, false, false },
	[CLUSTER_A_CPU_MODEL] = { A_STR, CLUSTER_CPU_MAX, true, false, false },
	[CLUSTER_A_FEATURES] = { A_STR, CLUSTER_FEATURES_MAX, true, false, false },
	[CLUSTER_A_MEMORY_MB] = { A_U64, 8, true, false, true },
	[CLUSTER_A_MODULES] = { A_STR, CLUSTER_MODULES_MAX, true, false, false },
	[CLUSTER_A_LABELS] = { A_STR, CLUSTER_LABELS_MAX, true, false, false },
	[CLUSTER_A_CLUSTER_ID] = { A_BYTES, CLUSTER_ID_LEN, false, true, true },
	[CLUSTER_A_FINGERPRINT] = { A_BYTES, CLUSTER_FP_LEN, false, true, true },
	[CLUSTER_A_TLS_PORT] = { A_U16, 2, false, true, true },
	[CLUSTER_A_STATUS] = { A_U8, 1, false, true, true },
	[CLUSTER_A_REASON] = { A_STR, CLUSTER_REASON_MAX, false, true, false },
	[CLUSTER_A_MANAGER] = { A_STR, CLUSTER_NAME_MAX, false, true, false },
	[CLUSTER_A_PROOF] = { A_BYTES, CLUSTER_PROOF_LEN, false, true, false },
};

struct attr {
	const uint8_t *v;
	size_t len;
	size_t off;		/* offset of the attribute header */
};

int cluster_wire_peek(const uint8_t *buf, size_t len, const char **why)
{
	if (len > CLUSTER_WIRE_MAX) {
		*why = "oversized datagram";
		return -EMSGSIZE;
	}
	if (len < CLUSTER_WIRE_HDR) {
		*why = "truncated header";
		return -EBADMSG;
	}
	if (memcmp(buf, CLUSTER_WIRE_MAGIC, 4)) {
		*why = "bad magic";
		return -EBADMSG;
	}
	if (buf[4] != CLUSTER_WIRE_VERSION) {
		*why = "unsupported version";
		return -EPROTONOSUPPORT;
	}
	if (((size_t)buf[6] << 8 | buf[7]) != len) {
		*why = "length field does not match datagram";
		return -EBADMSG;
	}
	if (buf[5] != CLUSTER_MSG_DISCOVER && buf[5] != CLUSTER_MSG_ANSWER) {
		*why = "unknown message type";
		return -EBADMSG;
	}
	return buf[5];
}

static int parse(const uint8_t *buf, size_t len, enum cluster_msg_type type,
		 struct attr *tb, const char **why)
{
	size_t off = CLUSTER_WIRE_HDR;
	int ret;

	ret = cluster_wire_peek(buf, len, why);
	if (ret < 0)
		return ret;
	if (ret != (int)type) {
		*why = "unexpected message type";
		return -EBADMSG;
	}
	memset(tb, 0, sizeof(*tb) * __CLUSTER_A_MAX);
	while (off < len) {
		const struct aspec *s;
		uint16_t t, l;

		if (len - off < 4) {
			*why = "truncated attribute header";
			return -EBADMSG;
		}
		t = buf[off] << 8 | buf[off + 1];
		l = buf[off + 2] << 8 | buf[off + 3];
		if (l > len - off - 4) {
			*why = "attribute runs past the datagram";
			return -EBADMSG;
		}
		if (!t || t >= __CLUSTER_A_MAX) {
			*why = "unknown attribute";
			return -EBADMSG;
		}
		s = &aspecs[t];
		if (!(type == CLUSTER_MSG_DISCOVER ? s->discover : s->answer)) {
			*why = "attribute not valid in this message";
			return -EBADMSG;
		}
		if (tb[t].v) {
			*why = "duplicate attribute";
			return -EBADMSG;
		}
		if (tb[CLUSTER_A_PROOF].v) {
			*why = "attribute after the proof";
			return -EBADMSG;
		}
		if (s->kind == A_STR ? (l == 0 || l >= s->len) : l != s->len) {
			*why = "attribute has a bad length";
			return -EBADMSG;
		}
		if (s->kind == A_STR) {
			for (size_t i = 0; i < l; i++) {
				uint8_t c = buf[off + 4 + i];

				if (c < 0x20 || c > 0x7e) {
					*why = "string is not printable ASCII";
					return -EBADMSG;
				}
			}
		}
		tb[t] = (struct attr){ buf + off + 4, l, off };
		off += 4 + l;
	}
	for (int t = 1; t < __CLUSTER_A_MAX; t++) {
		const struct aspec *s = &aspecs[t];
		bool mine = type == CLUSTER_MSG_DISCOVER ? s->discover : s->answer;

		if (mine && s->required && !tb[t].v) {
			*why = "required attribute missing";
			return -EBADMSG;
		}
	}
	return 0;
}

static void get_str(char *dst, const struct attr *a)
{
	memcpy(dst, a->v, a->len);
	dst[a->len] = '\0';
}

static void get_facts(struct cluster_facts *f, const struct attr *tb)
{
	uint64_t mem = 0;

	if (tb[CLUSTER_A_CPU_MODEL].v)
		get_str(f->cpu_model, &tb[CLUSTER_A_CPU_MODEL]);
	if (tb[CLUSTER_A_FEATURES].v)
		get_str(f->features, &tb[CLUSTER_A_FEATURES]);
	for (int i = 0; i < 8; i++)
		mem = mem << 8 | tb[CLUSTER_A_MEMORY_MB].v[i];
	f->memory_mb = mem;
	if (tb[CLUSTER_A_MODULES].v)
		get_str(f->modules, &tb[CLUSTER_A_MODULES]);
	if (tb[CLUSTER_A_LABELS].v)
		get_str(f->labels, &tb[CLUSTER_A_LABELS]);
}

static bool token_id_ok(const char *s)
{
	if (strlen(s) != 6)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

int cluster_discover_decode(struct cluster_discover *d, const uint8_t *buf,
			    size_t len, const char **why)
{
	struct attr tb[__CLUSTER_A_MAX];
	int ret;

	ret = parse(buf, len, CLUSTER_MSG_DISCOVER, tb, why);
	if (ret)
		return ret;
	memset(d, 0, sizeof(*d));
	memcpy(d->host_id, tb[CLUSTER_A_HOST_ID].v, CLUSTER_ID_LEN);
	memcpy(d->nonce, tb[CLUSTER_A_NONCE].v, CLUSTER_NONCE_LEN);
	if (tb[CLUSTER_A_TOKEN_ID].v) {
		get_str(d->token_id, &tb[CLUSTER_A_TOKEN_ID]);
		if (!token_id_ok(d->token_id)) {
			*why = "malformed token id";
			return -EBADMSG;
		}
	}
	if (tb[CLUSTER_A_HOSTNAME].v)
		get_str(d->hostname, &tb[CLUSTER_A_HOSTNAME]);
	get_facts(&d->facts, tb);
	return 0;
}

int cluster_answer_decode(struct cluster_answer *a, const uint8_t *buf,
			  size_t len, const char **why)
{
	struct attr tb[__CLUSTER_A_MAX];
	int ret;

	ret = parse(buf, len, CLUSTER_MSG_ANSWER, tb, why);
	if (ret)
		return ret;
	memset(a, 0, sizeof(*a));
	memcpy(a->host_id, tb[CLUSTER_A_HOST_ID].v, CLUSTER_ID_LEN);
	memcpy(a->nonce, tb[CLUSTER_A_NONCE].v, CLUSTER_NONCE_LEN);
	memcpy(a->cluster_id, tb[CLUSTER_A_CLUSTER_ID].v, CLUSTER_ID_LEN);
	memcpy(a->fingerprint, tb[CLUSTER_A_FINGERPRINT].v, CLUSTER_FP_LEN);
	a->tls_port = tb[CLUSTER_A_TLS_PORT].v[0] << 8 |
		      tb[CLUSTER_A_TLS_PORT].v[1];
	a->status = tb[CLUSTER_A_STATUS].v[0];
	if (a->status >= __CLUSTER_ST_MAX) {
		*why = "unknown answer status";
		return -EBADMSG;
	}
	if (!a->tls_port) {
		*why = "answer without a TLS port";
		return -EBADMSG;
	}
	if (tb[CLUSTER_A_REASON].v)
		get_str(a->reason, &tb[CLUSTER_A_REASON]);
	if (tb[CLUSTER_A_MANAGER].v)
		get_str(a->manager, &tb[CLUSTER_A_MANAGER]);
	if (tb[CLUSTER_A_PROOF].v) {
		a->has_proof = true;
		memcpy(a->proof, tb[CLUSTER_A_PROOF].v, CLUSTER_PROOF_LEN);
		a->signed_len = tb[CLUSTER_A_PROOF].off;
	}
	return 0;
}

const char *cluster_status_name(enum cluster_status st)
{
	static const char *const names[__CLUSTER_ST_MAX] = {
		[CLUSTER_ST_ADMIT] = "admit",
		[CLUSTER_ST_MEMBER] = "member",
		[CLUSTER_ST_POLICY] = "policy",
		[CLUSTER_ST_TOKEN_UNKNOWN] = "token-unknown",
		[CLUSTER_ST_TOKEN_EXPIRED] = "token-expired",
		[CLUSTER_ST_TOKEN_REVOKED] = "token-revoked",
		[CLUSTER_ST_NOT_MEMBER] = "not-member",
	};

	return (unsigned int)st < __CLUSTER_ST_MAX ? names[st] : "?";
}
