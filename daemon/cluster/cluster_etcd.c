// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "cluster_etcd.h"

#define ENDPOINTS_MAX	4
#define REPLY_MAX	(8 << 20)

struct cluster_etcd {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
	char endpoints[ENDPOINTS_MAX][128];
	size_t n_endpoints, current;
	struct req *reqs;	/* in flight */
};

struct req {
	struct req *next;
	struct cluster_etcd *etcd;
	CURL *easy;
	struct curl_slist *headers;
	char *body, *path;
	char *reply;
	size_t reply_len;
	cluster_etcd_cb cb;
	void *data;
	size_t tries;
	char errbuf[CURL_ERROR_SIZE];
};

static int start(struct req *r);

static void req_free(struct req *r)
{
	for (struct req **pp = &r->etcd->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	if (r->easy) {
		curl_multi_remove_handle(r->etcd->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r->path);
	free(r->reply);
	free(r);
}

static void finish(struct req *r, CURLcode code)
{
	struct json_object *resp = NULL;
	char msg[CURL_ERROR_SIZE + 64];
	long status = 0;
	int err = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		struct cluster_etcd *etcd = r->etcd;

		/* Unreachable endpoint: the next one, once each. */
		if (++r->tries < etcd->n_endpoints) {
			etcd->current = (etcd->current + 1) % etcd->n_endpoints;
			curl_multi_remove_handle(etcd->multi, r->easy);
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			free(r->reply);
			r->reply = NULL;
			r->reply_len = 0;
			if (!start(r))
				return;
		}
		snprintf(msg, sizeof(msg), "etcd: %s", *r->errbuf ? r->errbuf :
			 curl_easy_strerror(code));
		err = -EHOSTUNREACH;
	} else if (!r->reply || !(resp = json_tokener_parse(r->reply))) {
		snprintf(msg, sizeof(msg), "etcd: HTTP %ld, reply is not JSON", status);
		err = -EPROTO;
	} else if (status != 200) {
		struct json_object *m;

		snprintf(msg, sizeof(msg), "etcd: HTTP %ld: %s", status,
			 json_object_object_get_ex(resp, "message", &m) ?
			 json_object_get_string(m) : "error");
		err = -EIO;
	} else {
		*msg = '\0';
	}
	r->cb(r->data, err, err ? NULL : resp, msg);
	json_object_put(resp);
	req_free(r);
}

static void drain(struct cluster_etcd *etcd)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(etcd->multi, &left))) {
		struct req *r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		finish(r, m->data.result);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct cluster_etcd *etcd = data;
	int action = 0, running;

	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		action |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(etcd->multi, fd, action, &running);
	drain(etcd);
	return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct cluster_etcd *etcd = userp;
	sd_event_source *s = socketp;
	uint32_t ev = 0;

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(s);
		curl_multi_assign(etcd->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (s)
		return sd_event_source_set_io_events(s, ev) < 0 ? -1 : 0;
	if (sd_event_add_io(etcd->event, &s, fd, ev, on_io, etcd) < 0)
		return -1;
	curl_multi_assign(etcd->multi, fd, s);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct cluster_etcd *etcd = data;
	int running;

	curl_multi_socket_action(etcd->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(etcd);
	return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct cluster_etcd *etcd = userp;
	uint64_t now;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(etcd->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	sd_event_now(etcd->event, CLOCK_MONOTONIC, &now);
	if (sd_event_source_set_time(etcd->timer, now + timeout_ms * 1000ULL) < 0 ||
	    sd_event_source_set_enabled(etcd->timer, SD_EVENT_ONESHOT) < 0)
		return -1;
	return 0;
}

int cluster_etcd_new(struct cluster_etcd **out, sd_event *e,
		     const char *endpoints, char *err, size_t err_len)
{
	struct cluster_etcd *etcd;
	const char *p = endpoints;

	etcd = calloc(1, sizeof(*etcd));
	if (!etcd)
		return -ENOMEM;
	while (*p) {
		size_t w;

		while (*p == ' ' || *p == ',')
			p++;
		w = strcspn(p, " ,");
		if (!w)
			break;
		if (etcd->n_endpoints == ENDPOINTS_MAX ||
		    w >= sizeof(etcd->endpoints[0]) ||
		    (strncmp(p, "http://", 7) && strncmp(p, "https://", 8))) {
			snprintf(err, err_len, "etcd_endpoints: expected up to %d http(s):// URLs",
				 ENDPOINTS_MAX);
			free(etcd);
			return -EINVAL;
		}
		snprintf(etcd->endpoints[etcd->n_endpoints++], sizeof(etcd->endpoints[0]),
			 "%.*s", (int)w, p);
		p += w;
	}
	if (!etcd->n_endpoints) {
		snprintf(err, err_len, "etcd_endpoints: none given");
		free(etcd);
		return -EINVAL;
	}
	etcd->event = sd_event_ref(e);
	etcd->multi = curl_multi_init();
	if (!etcd->multi ||
	    sd_event_add_time(e, &etcd->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, etcd) < 0) {
		snprintf(err, err_len, "etcd client: out of memory");
		cluster_etcd_free(etcd);
		return -ENOMEM;
	}
	sd_event_source_set_enabled(etcd->timer, SD_EVENT_OFF);
	curl_multi_setopt(etcd->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(etcd->multi, CURLMOPT_SOCKETDATA, etcd);
	curl_multi_setopt(etcd->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(etcd->multi, CURLMOPT_TIMERDATA, etcd);
	*out = etcd;
	return 0;
}

void cluster_etcd_free(struct cluster_etcd *etcd)
{
	if (!etcd)
		return;
	/* Pending requests die with the client, callbacks unrun. */
	while (etcd->reqs)
		req_free(etcd->reqs);
	if (etcd->multi)
		curl_multi_cleanup(etcd->multi);
	sd_event_source_disable_unref(etcd->timer);
	sd_event_unref(etcd->event);
	free(etcd);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *userp)
{
	struct req *r = userp;
	size_t len = size * n;
	char *p;

	if (r->reply_len + len > REPLY_MAX)
		return 0;	/* aborts the transfer */
	p = realloc(r->reply, r->reply_len + len + 1);
	if (!p)
		return 0;
	memcpy(p + r->reply_len, ptr, len);
	r->reply = p;
	r->reply_len += len;
	p[r->reply_len] = '\0';
	return len;
}

static int start(struct req *r)
{
	struct cluster_etcd *etcd = r->etcd;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", etcd->endpoints[etcd->current], r->path);
	*r->errbuf = '\0';
	r->easy = curl_easy_init();
	if (!r->easy)
		return -ENOMEM;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)CLUSTER_ETCD_TIMEOUT_MS);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_multi_add_handle(etcd->multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		return -ENOMEM;
	}
	return 0;
}

int cluster_etcd_call(struct cluster_etcd *etcd, const char *path,
		      struct json_object *body, cluster_etcd_cb cb, void *data)
{
	struct req *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->etcd = etcd;
	r->cb = cb;
	r->data = data;
	r->body = strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	r->path = strdup(path);
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!r->body || !r->path || !r->headers) {
		curl_slist_free_all(r->headers);
		free(r->body);
		free(r->path);
		free(r);
		return -ENOMEM;
	}
	r->next = etcd->reqs;
	etcd->reqs = r;
	ret = start(r);
	if (ret)
		req_free(r);
	return ret;
}

static struct json_object *b64(const char *s, size_t len)
{
	size_t out_len = 4 * ((len + 2) / 3) + 1;
	struct json_object *o;
	char *out = malloc(out_len);

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, len);
	o = json_object_new_string(out);
	free(out);
	return o;
}

struct json_object *cluster_etcd_put(const char *key, const char *value)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", b64(key, strlen(key)));
	json_object_object_add(o, "value", b64(value, strlen(value)));
	return o;
}

struct json_object *cluster_etcd_range_prefix(const char *prefix)
{
	struct json_object *o = json_object_new_object();
	size_t len = strlen(prefix);
	char *end = strdup(prefix);

	/* All keys with the prefix: [prefix, prefix with its last byte + 1). */
	if (end && len)
		end[len - 1]++;
	json_object_object_add(o, "key", b64(prefix, len));
	json_object_object_add(o, "range_end", b64(end ? end : "", len));
	free(end);
	return o;
}

struct json_object *cluster_etcd_delete(const char *key)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key", b64(key, strlen(key)));
	return o;
}

struct json_object *cluster_etcd_create(const char *key, const char *value)
{
	struct json_object *o = json_object_new_object(), *cmp, *a, *op, *rng;

	cmp = json_object_new_object();
	json_object_object_add(cmp, "key", b64(key, strlen(key)));
	json_object_object_add(cmp, "target", json_object_new_string("CREATE"));
	json_object_object_add(cmp, "create_revision", json_object_new_string("0"));
	a = json_object_new_array();
	json_object_array_add(a, cmp);
	json_object_object_add(o, "compare", a);
	op = json_object_new_object();
	json_object_object_add(op, "request_put", cluster_etcd_put(key, value));
	a = json_object_new_array();
	json_object_array_add(a, op);
	json_object_object_add(o, "success", a);
	rng = json_object_new_object();
	json_object_object_add(rng, "request_range", cluster_etcd_delete(key));
	a = json_object_new_array();
	json_object_array_add(a, rng);
	json_object_object_add(o, "failure", a);
	return o;
}

static char *unb64(const char *s, size_t *out_len)
{
	size_t len = strlen(s), pad = 0;
	unsigned char *out;
	int n;

	if (len % 4)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (len && s[len - 1] == '=' && pad < 2) {
		pad++;
		len--;
	}
	n -= pad;
	out[n] = '\0';
	*out_len = n;
	return (char *)out;
}

char *cluster_etcd_kv(struct json_object *kvs, size_t i, char **key)
{
	struct json_object *kv = json_object_array_get_idx(kvs, i), *k, *v;
	size_t klen, vlen;
	char *val;

	*key = NULL;
	if (!kv || !json_object_object_get_ex(kv, "key", &k) ||
	    !json_object_object_get_ex(kv, "value", &v))
		return NULL;
	*key = unb64(json_object_get_string(k), &klen);
	val = unb64(json_object_get_string(v), &vlen);
	/* Values are JSON text: an embedded NUL is corruption. */
	if (!*key || !val || strlen(val) != vlen || strlen(*key) != klen) {
		free(*key);
		free(val);
		*key = NULL;
		return NULL;
	}
	return val;
}
