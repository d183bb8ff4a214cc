// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>

#include "cluster_conn.h"

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD };

struct cluster_conn {
	enum conn_state state;
	int fd;
	SSL *ssl;
	sd_event_source *io, *timer;
	const struct cluster_conn_ops *ops;
	void *data;
	char peer[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];

	bool pinned, has_peer_fp, pin_mismatch;
	uint8_t pin[CLUSTER_FP_LEN], peer_fp[CLUSTER_FP_LEN];

	uint8_t *rx;
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_cap;
	bool want_write;	/* the last TLS call asked for POLLOUT */
	int busy;		/* nested in a callback: free later */
};

/*
 * OpenSSL writes with write(2): to a peer that went away that raises
 * SIGPIPE, which would kill hvxd (systemd ignores it for services, a shell
 * does not). Block it around TLS calls and swallow what they raised, as
 * libcurl does, rather than changing the process's disposition.
 */
struct nopipe {
	sigset_t old;
	bool pending;
};

static void nopipe_enter(struct nopipe *np)
{
	sigset_t pipe, pending;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pending);
	np->pending = sigismember(&pending, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, &np->old);
}

static void nopipe_leave(struct nopipe *np)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!np->pending)
		while (sigtimedwait(&pipe, NULL, &zero) > 0)
			;
	sigprocmask(SIG_SETMASK, &np->old, NULL);
}

static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, len, "%s", strerror(errno ? errno : EPROTO));
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct cluster_conn *c = SSL_get_app_data(ssl);
	X509 *cert = X509_STORE_CTX_get0_cert(xs);

	/*
	 * Self-signed certificates are pinned by key, so there is no chain to
	 * build: the handshake's CertificateVerify proves the key.
	 */
	if (!cert || cluster_spki_fp(cert, c->peer_fp)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	c->has_peer_fp = true;
	if (c->pinned && memcmp(c->peer_fp, c->pin, CLUSTER_FP_LEN)) {
		c->pin_mismatch = true;
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	return 1;
}

SSL_CTX *cluster_tls_ctx(const struct cluster_ident *id, bool is_server,
			 char *err, size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(is_server ? TLS_server_method() :
					       TLS_client_method());
	char buf[160];

	if (!ctx ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_use_certificate(ctx, id->cert) ||
	    !SSL_CTX_use_PrivateKey(ctx, id->key) ||
	    !SSL_CTX_set_num_tickets(ctx, 0)) {
		snprintf(err, err_len, "TLS context: %s",
			 ssl_reason(buf, sizeof(buf)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
	return ctx;
}

void cluster_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE];

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, len);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
		inet_ntop(AF_INET, &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12],
			  buf, len);
		return;
	}
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		  a, sizeof(a));
	if (((const struct sockaddr_in6 *)sa)->sin6_scope_id &&
	    if_indextoname(((const struct sockaddr_in6 *)sa)->sin6_scope_id, ifn))
		snprintf(buf, len, "%s%%%s", a, ifn);
	else
		snprintf(buf, len, "%s", a);
}

static void conn_free(struct cluster_conn *c)
{
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx);
	free(c->tx);
	free(c);
}

void cluster_conn_close(struct cluster_conn *c, const char *why)
{
	if (c->state == C_DEAD)
		return;
	c->state = C_DEAD;
	sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (c->ssl && SSL_is_init_finished(c->ssl)) {
		struct nopipe np;

		nopipe_enter(&np);
		SSL_shutdown(c->ssl);	/* best effort close_notify */
		nopipe_leave(&np);
	}
	c->busy++;
	c->ops->closed(c, why);
	c->busy--;
	if (!c->busy)
		conn_free(c);
}

static void update_events(struct cluster_conn *c)
{
	uint32_t ev = EPOLLIN;

	if (c->state == C_DEAD)
		return;
	if (c->state == C_CONNECTING || c->want_write ||
	    (c->state == C_OPEN && c->tx_len))
		ev |= EPOLLOUT;
	sd_event_source_set_io_events(c->io, ev);
}

/* Classifies a failed SSL call; returns 1 to wait, 0 on error (closed). */
static int ssl_wait(struct cluster_conn *c, int ret, const char *what)
{
	char buf[200], why[300];

	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		c->want_write = false;
		return 1;
	case SSL_ERROR_WANT_WRITE:
		c->want_write = true;
		return 1;
	case SSL_ERROR_ZERO_RETURN:
		cluster_conn_close(c, "peer closed the connection");
		return 0;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			snprintf(why, sizeof(why), "%s: %s", what,
				 errno ? strerror(errno) : "connection closed");
			cluster_conn_close(c, why);
			return 0;
		}
		/* fall through */
	default:
		if (c->pin_mismatch) {
			char fp[72];

			cluster_fp_format(c->peer_fp, fp);
			snprintf(why, sizeof(why),
				 "%s: manager key %s is not the pinned key",
				 what, fp);
		} else {
			snprintf(why, sizeof(why), "%s: %s", what,
				 ssl_reason(buf, sizeof(buf)));
		}
		ERR_clear_error();
		cluster_conn_close(c, why);
		return 0;
	}
}

static void flush(struct cluster_conn *c)
{
	while (c->tx_len && c->state == C_OPEN) {
		int n = SSL_write(c->ssl, c->tx, c->tx_len);

		if (n <= 0) {
			ssl_wait(c, n, "write");
			return;
		}
		memmove(c->tx, c->tx + n, c->tx_len - n);
		c->tx_len -= n;
		c->want_write = false;
	}
}

static int parse_frames(struct cluster_conn *c)
{
	size_t off = 0;

	while (c->state == C_OPEN && c->rx_len - off >= 4) {
		const uint8_t *p = c->rx + off;
		uint32_t len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
		struct json_tokener *tok;
		struct json_object *m;

		if (len > CLUSTER_FRAME_MAX) {
			cluster_conn_close(c, "message larger than 64 KiB");
			return -1;
		}
		if (c->rx_len - off - 4 < len)
			break;
		tok = json_tokener_new();
		if (!tok) {
			cluster_conn_close(c, "out of memory");
			return -1;
		}
		m = json_tokener_parse_ex(tok, (const char *)p + 4, len);
		if (!m || json_tokener_get_parse_end(tok) != len ||
		    !json_object_is_type(m, json_type_object)) {
			json_tokener_free(tok);
			json_object_put(m);
			cluster_conn_close(c, "malformed message");
			return -1;
		}
		json_tokener_free(tok);
		off += 4 + len;
		c->ops->msg(c, m);
		json_object_put(m);
	}
	if (c->state == C_DEAD)
		return -1;
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
	return 0;
}

static void do_read(struct cluster_conn *c)
{
	while (c->state == C_OPEN) {
		size_t room = CLUSTER_FRAME_MAX + 4 - c->rx_len;
		int n;

		if (!room) {
			cluster_conn_close(c, "message larger than 64 KiB");
			return;
		}
		n = SSL_read(c->ssl, c->rx + c->rx_len, room);
		if (n <= 0) {
			ssl_wait(c, n, "read");
			return;
		}
		c->rx_len += n;
		if (parse_frames(c))
			return;
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct cluster_conn *c = data;
	struct nopipe np;
	int ret;

	nopipe_enter(&np);
	c->busy++;
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		char why[128];

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			cluster_conn_close(c, why);
			goto out;
		}
		c->state = C_HANDSHAKE;
	}
	if (c->state == C_HANDSHAKE) {
		ret = SSL_do_handshake(c->ssl);
		if (ret != 1) {
			ssl_wait(c, ret, "TLS handshake");
			goto out;
		}
		c->state = C_OPEN;
		c->want_write = false;
		sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		c->ops->open(c);
	}
	if (c->state == C_OPEN)
		flush(c);
	if (c->state == C_OPEN)
		do_read(c);
	if (c->state == C_OPEN)
		flush(c);
out:
	update_events(c);
	if (!--c->busy && c->state == C_DEAD)
		conn_free(c);
	nopipe_leave(&np);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *data)
{
	cluster_conn_close(data, "TLS handshake timed out");
	return 0;
}

static struct cluster_conn *conn_new(sd_event *e, SSL_CTX *ctx, int fd,
				     bool server,
				     const struct cluster_conn_ops *ops,
				     void *data)
{
	struct cluster_conn *c = calloc(1, sizeof(*c));
	uint64_t now;
	int one = 1;

	if (!c)
		return NULL;
	c->fd = fd;
	c->ops = ops;
	c->data = data;
	c->rx = malloc(CLUSTER_FRAME_MAX + 4);
	c->ssl = SSL_new(ctx);
	if (!c->rx || !c->ssl || !SSL_set_fd(c->ssl, fd))
		goto fail;
	SSL_set_app_data(c->ssl, c);
	if (server)
		SSL_set_accept_state(c->ssl);
	else
		SSL_set_connect_state(c->ssl);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sd_event_now(e, CLOCK_MONOTONIC, &now);
	if (sd_event_add_io(e, &c->io, fd, EPOLLIN | EPOLLOUT, on_io, c) < 0 ||
	    sd_event_add_time(e, &c->timer, CLOCK_MONOTONIC,
			      now + CLUSTER_HANDSHAKE_USEC, 0, on_timeout, c) < 0)
		goto fail;
	return c;
fail:
	c->fd = -1;	/* the caller still owns fd */
	conn_free(c);
	return NULL;
}

struct cluster_conn *cluster_conn_accept(sd_event *e, SSL_CTX *ctx, int fd,
					 const struct cluster_conn_ops *ops,
					 void *data)
{
	struct cluster_conn *c = conn_new(e, ctx, fd, true, ops, data);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!c)
		return NULL;
	c->state = C_HANDSHAKE;
	if (!getpeername(fd, (struct sockaddr *)&ss, &len))
		cluster_sockaddr_str((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	return c;
}

struct cluster_conn *cluster_conn_connect(sd_event *e, SSL_CTX *ctx,
					  const struct sockaddr *sa,
					  socklen_t sa_len, const uint8_t *pin,
					  const struct cluster_conn_ops *ops,
					  void *data, int *err)
{
	struct cluster_conn *c;
	int fd;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (connect(fd, sa, sa_len) && errno != EINPROGRESS) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	c = conn_new(e, ctx, fd, false, ops, data);
	if (!c) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	c->state = C_CONNECTING;
	if (pin) {
		c->pinned = true;
		memcpy(c->pin, pin, CLUSTER_FP_LEN);
	}
	cluster_sockaddr_str(sa, c->peer, sizeof(c->peer));
	return c;
}

int cluster_conn_send(struct cluster_conn *c, struct json_object *m)
{
	const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);

	if (c->state == C_DEAD)
		return -ENOTCONN;
	if (len > CLUSTER_FRAME_MAX)
		return -EMSGSIZE;
	if (c->tx_len + 4 + len > CLUSTER_TX_MAX)
		return -ENOBUFS;
	if (c->tx_len + 4 + len > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 4096;
		uint8_t *tx;

		while (cap < c->tx_len + 4 + len)
			cap *= 2;
		tx = realloc(c->tx, cap);
		if (!tx)
			return -ENOMEM;
		c->tx = tx;
		c->tx_cap = cap;
	}
	c->tx[c->tx_len] = len >> 24;
	c->tx[c->tx_len + 1] = len >> 16;
	c->tx[c->tx_len + 2] = len >> 8;
	c->tx[c->tx_len + 3] = len;
	memcpy(c->tx + c->tx_len + 4, text, len);
	c->tx_len += 4 + len;
	if (c->state == C_OPEN && !c->busy) {
		struct nopipe np;

		nopipe_enter(&np);
		c->busy++;
		flush(c);
		update_events(c);
		nopipe_leave(&np);
		if (!--c->busy && c->state == C_DEAD) {
			conn_free(c);
			return -ENOTCONN;
		}
	} else {
		update_events(c);
	}
	return 0;
}

void *cluster_conn_data(struct cluster_conn *c)
{
	return c->data;
}

const char *cluster_conn_peer(struct cluster_conn *c)
{
	return c->peer;
}

bool cluster_conn_peer_fp(struct cluster_conn *c, uint8_t fp[CLUSTER_FP_LEN])
{
	if (c->has_peer_fp)
		memcpy(fp, c->peer_fp, CLUSTER_FP_LEN);
	return c->has_peer_fp;
}

int cluster_conn_binding(struct cluster_conn *c, uint8_t out[32])
{
	static const char label[] = "EXPORTER-hvx-join";

	return SSL_export_keying_material(c->ssl, out, 32, label,
					  sizeof(label) - 1, NULL, 0, 0) == 1 ?
	       0 : -EPROTO;
}
