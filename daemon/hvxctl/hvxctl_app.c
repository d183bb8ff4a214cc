// SPDX-License-Identifier: GPL-2.0
/*
 * hvxctl app: key tooling and manifest signing for the primary's operator,
 * an offline verifier for humans, and the apps hvxd verified and launched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app_manifest.h"
#include "app_verify.h"
#include "hvx_conf.h"
#include "hvxctl.h"

#define CALL_TIMEOUT_MS 10000
#define PRIMARY_TIMEOUT_MS 2000

/* Options of the verb: argv[-1] is the verb itself, as getopt expects. */
static int next_opt(int argc, char **argv, const char *shortopts,
		    const struct option *longopts)
{
	return getopt_long(argc + 1, argv - 1, shortopts, longopts, NULL);
}

static int one_keyfile(struct hvxctl *c, int argc, char **argv)
{
	if (!argc)
		return hvxctl_usage(c, "missing KEYFILE");
	return hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]);
}

static int key_json(struct hvxctl *c, EVP_PKEY *pkey, const char *path,
		    struct json_object **out)
{
	char hex[2 * APP_PUBKEY_LEN + 1];
	uint8_t pub[APP_PUBKEY_LEN], id[APP_KEYID_LEN];
	struct json_object *o;

	if (app_key_raw_public(pkey, pub))
		return hvxctl_fail(c, 0, "%s: not an Ed25519 key", path);
	o = json_object_new_object();
	if (!o)
		return hvxctl_fail(c, -ENOMEM, "output");
	app_key_id(pub, id);
	app_hex_encode(id, APP_KEYID_LEN, hex);
	hvx_json_add_str(o, "key_id", hex);
	app_hex_encode(pub, APP_PUBKEY_LEN, hex);
	hvx_json_add_str(o, "public", hex);
	hvx_json_add_str(o, "file", path);
	*out = o;
	return 0;
}

static void text_key(struct json_object *o)
{
	printf("key_id %s\npublic %s\n", hvx_json_text(o, "key_id", "?"),
	       hvx_json_text(o, "public", "?"));
}

static int app_keygen(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *o;
	EVP_PKEY *pkey;
	int ret;

	if (argc != 1)
		return one_keyfile(c, argc, argv);
	pkey = app_key_generate();
	if (!pkey)
		return hvxctl_fail(c, 0, "key generation failed");
	ret = app_key_save(pkey, argv[0]);
	if (ret) {
		EVP_PKEY_free(pkey);
		return hvxctl_fail(c, ret, "cannot write %s", argv[0]);
	}
	ret = key_json(c, pkey, argv[0], &o);
	EVP_PKEY_free(pkey);
	return ret ?: hvxctl_print(c, o, text_key);
}

static int app_pubkey(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *o;
	EVP_PKEY *pkey;
	bool priv;
	int ret;

	if (argc != 1)
		return one_keyfile(c, argc, argv);
	pkey = app_key_load(argv[0], &priv);
	if (!pkey)
		return hvxctl_fail(c, errno, "cannot load an Ed25519 PEM key");
	ret = key_json(c, pkey, argv[0], &o);
	EVP_PKEY_free(pkey);
	return ret ?: hvxctl_print(c, o, text_key);
}

static int parse_epoch(struct hvxctl *c, const char *s, uint64_t *out)
{
	if (hvx_conf_parse_uint(s, out) || !*out || *out > APP_UINT_MAX)
		return hvxctl_usage(c, "invalid time \"%s\" (seconds since the epoch)", s);
	return 0;
}

static int app_sign_cmd(struct hvxctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "app-id", required_argument, NULL, 'a' },
		{ "version", required_argument, NULL, 'v' },
		{ "vm", required_argument, NULL, 'm' },
		{ "arg", required_argument, NULL, 'A' },
		{ "expires", required_argument, NULL, 'e' },
		{ "expires-at", required_argument, NULL, 'E' },
		{ "output", required_argument, NULL, 'o' },
		{ 0 }
	};
	const char *keyfile = NULL, *out = NULL;
	uint64_t usec = 30ULL * 86400 * 1000000, at = 0;
	struct app_manifest m = { 0 };
	char *text = NULL;
	int opt, ret, fd;
	EVP_PKEY *pkey = NULL;
	struct stat st;
	bool priv;

	optind = 0;
	while ((opt = next_opt(argc, argv, "k:a:v:m:A:e:E:o:", opts)) != -1) {
		switch (opt) {
		case 'k':
			keyfile = optarg;
			break;
		case 'a':
			if (!app_name_valid(optarg, APP_ID_MAX))
				return hvxctl_usage(c, "invalid app ID \"%s\"", optarg);
			strcpy(m.app_id, optarg);
			break;
		case 'v':
			if (hvx_conf_parse_uint(optarg, &m.version) || !m.version ||
			    m.version > APP_UINT_MAX)
				return hvxctl_usage(c, "invalid version \"%s\"", optarg);
			break;
		case 'm':
			if (!app_name_valid(optarg, APP_VM_MAX) || m.n_vms == APP_VMS_MAX ||
			    app_manifest_has_vm(&m, optarg))
				return hvxctl_usage(c, "invalid or repeated VM \"%s\"", optarg);
			strcpy(m.vms[m.n_vms++], optarg);
			break;
		case 'A':
			if (strlen(optarg) > APP_ARG_MAX || m.n_args == APP_ARGS_MAX) {
				app_manifest_free(&m);
				return hvxctl_usage(c, "too many or too long --arg");
			}
			m.args[m.n_args++] = strdup(optarg);
			break;
		case 'e':
			if (hvx_conf_parse_duration(optarg, &usec)) {
				app_manifest_free(&m);
				return hvxctl_usage(c, "invalid duration \"%s\"", optarg);
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'E':
			ret = parse_epoch(c, optarg, &at);
			if (ret) {
				app_manifest_free(&m);
				return ret;
			}
			break;
		default:
			app_manifest_free(&m);
			return hvxctl_usage(c, "bad option");
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 1 || !keyfile || !m.app_id[0] || !m.version || !m.n_vms) {
		app_manifest_free(&m);
		return hvxctl_usage(c, "need --key, --app-id, --version, --vm and one PAYLOAD");
	}
	snprintf(c->what, sizeof(c->what), "app sign %.100s", m.app_id);
	m.expires = at ?: (uint64_t)time(NULL) + usec / 1000000;
	pkey = app_key_load(keyfile, &priv);
	if (!pkey || !priv) {
		ret = hvxctl_fail(c, pkey ? 0 : errno, "%s: %s", keyfile,
				  pkey ? "is a public key" : "cannot load");
		goto out;
	}
	fd = open(argv[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = hvxctl_fail(c, errno, "%s", argv[0]);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	m.size = (uint64_t)st.st_size;
	ret = app_hash_copy(fd, -1, m.size, m.sha256);
	close(fd);
	if (ret) {
		ret = hvxctl_fail(c, ret, "%s", argv[0]);
		goto out;
	}
	ret = app_manifest_sign(&m, pkey);
	text = ret ? NULL : app_manifest_dump(&m);
	if (!text) {
		ret = hvxctl_fail(c, ret ?: -ENOMEM, "signing");
		goto out;
	}
	if (out) {
		FILE *f = fopen(out, "wex");

		if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f)) {
			ret = hvxctl_fail(c, errno, "cannot write %s", out);
			goto out;
		}
	} else {
		printf("%s\n", text);
	}
	ret = HVXCTL_EXIT_OK;
out:
	free(text);
	EVP_PKEY_free(pkey);
	app_manifest_free(&m);
	return ret;
}

static char *read_small(const char *path, size_t max, size_t *len)
{
	char *buf = malloc(max + 1);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	/* One byte over the limit reaches the parser, which names the limit. */
	n = read(fd, buf, max + 1);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

static struct json_object *decision_json(const struct app_decision *d)
{
	char hex[2 * APP_SHA256_LEN + 1];
	struct json_object *o = json_object_new_object(), *vms;
	unsigned int i;

	if (!o)
		return NULL;
	hvx_json_add_bool(o, "ok", d->reason == APP_OK);
	hvx_json_add_str(o, "reason", app_reason_name(d->reason));
	hvx_json_add_str(o, "detail", d->detail);
	if (!d->have_manifest)
		return o;
	hvx_json_add_str(o, "app_id", d->m.app_id);
	hvx_json_add_u64(o, "version", d->m.version);
	hvx_json_add_u64(o, "size", d->m.size);
	app_hex_encode(d->m.sha256, APP_SHA256_LEN, hex);
	hvx_json_add_str(o, "sha256", hex);
	app_hex_encode(d->m.key_id, APP_KEYID_LEN, hex);
	hvx_json_add_str(o, "key_id", hex);
	hvx_json_add_u64(o, "expires", d->m.expires);
	vms = json_object_new_array();
	for (i = 0; vms && i < d->m.n_vms; i++)
		json_object_array_add(vms, json_object_new_string(d->m.vms[i]));
	hvx_json_add(o, "vms", vms);
	return o;
}

static void text_decision(struct json_object *o)
{
	printf("%s version %" PRIu64 " key %.16s...: %s\n",
	       hvx_json_text(o, "app_id", "?"), hvx_json_u64(o, "version"),
	       hvx_json_text(o, "key_id", "?"), hvx_json_text(o, "detail", ""));
}

static int app_verify_cmd(struct hvxctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "primary", required_argument, NULL, 'r' },
		{ "vm", required_argument, NULL, 'm' },
		{ 0 }
	};
	const char *payload = NULL, *keyfile = NULL, *primary = NULL, *vm = NULL;
	struct app_decision d = { 0 };
	uint8_t pub[APP_PUBKEY_LEN];
	uint64_t min_version = 0;
	struct json_object *o;
	char err[256], *text;
	int opt, fd, ret;
	size_t len;

	optind = 0;
	while ((opt = next_opt(argc, argv, "P:k:r:m:", opts)) != -1) {
		switch (opt) {
		case 'P': payload = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'r': primary = optarg; break;
		case 'm': vm = optarg; break;
		default: return hvxctl_usage(c, "bad option");
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 1 || !!keyfile == !!primary)
		return hvxctl_usage(c, "need one MANIFEST and either --key or --primary");
	snprintf(c->what, sizeof(c->what), "app verify %.100s", argv[0]);
	text = read_small(argv[0], APP_MANIFEST_MAX, &len);
	if (!text)
		return hvxctl_fail(c, errno, "cannot read");
	ret = app_manifest_parse(text, len, &d.m, err, sizeof(err));
	free(text);
	if (ret)
		return hvxctl_fail(c, 0, "%s: %s", app_reason_name(APP_BAD_MANIFEST), err);
	d.have_manifest = true;
	if (keyfile) {
		EVP_PKEY *pkey;
		bool priv;

		pkey = app_key_load(keyfile, &priv);
		ret = pkey ? app_key_raw_public(pkey, pub) : -errno;
		EVP_PKEY_free(pkey);
		if (ret) {
			app_decision_free(&d);
			return hvxctl_fail(c, ret, "%s", keyfile);
		}
	} else {
		struct app_primary p;
		struct app_lookup lk;

		app_primary_init(&p, primary, PRIMARY_TIMEOUT_MS);
		d.reason = app_primary_lookup(&p, d.m.app_id, d.m.key_id, &lk,
					      d.detail, sizeof(d.detail));
		app_primary_close(&p);
		memcpy(pub, lk.pub, sizeof(pub));
		min_version = lk.min_version;
	}
	if (!d.reason)
		app_check_signed(&d, pub, min_version, vm);
	if (!d.reason && payload) {
		fd = open(payload, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(d.detail, sizeof(d.detail), "payload %s: %s",
				 payload, strerror(errno));
			d.reason = APP_PAYLOAD_UNREADABLE;
		} else {
			app_check_payload(&d, fd, -1, payload);
			close(fd);
		}
	}
	if (!d.reason)
		snprintf(d.detail, sizeof(d.detail), "signature%s%s%s valid",
			 min_version ? ", version" : "", vm ? ", vm" : "",
			 payload ? ", payload" : "");
	o = decision_json(&d);
	if (!o) {
		app_decision_free(&d);
		return hvxctl_fail(c, -ENOMEM, "output");
	}
	if (d.reason && !c->json) {
		json_object_put(o);
		ret = hvxctl_fail(c, 0, "%s: %s", app_reason_name(d.reason), d.detail);
	} else {
		ret = hvxctl_print(c, o, text_decision);
		if (d.reason)
			ret = HVXCTL_EXIT_FAIL;
	}
	app_decision_free(&d);
	return ret;
}

static void text_list(struct json_object *res)
{
	struct json_object *apps;

	if (!json_object_object_get_ex(res, "apps", &apps))
		return;
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i);
		const char *unit = hvx_json_text(a, "unit", "");

		printf("%s version %" PRIu64 " vm %s pid %" PRIu64 " %s%s%s\n",
		       hvx_json_text(a, "app_id", "?"), hvx_json_u64(a, "version"),
		       hvx_json_text(a, "vm", "?"), hvx_json_u64(a, "pid"),
		       hvx_json_text(a, "state", "?"), *unit ? " unit " : "", unit);
	}
}

static int app_list(struct hvxctl *c, int argc, char **argv)
{
	if (argc)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);
	return hvxctl_call(c, "app.list", NULL, CALL_TIMEOUT_MS, text_list);
}

static const struct hvxctl_cmd app_cmds[] = {
	{ "list", NULL, "apps hvxd verified and launched, with unit and pid",
	  app_list },
	{ "verify", "MANIFEST {--key PEM | --primary ADDR} [--payload FILE] [--vm VM]",
	  "check a manifest's signature, expiry, version floor, VM and payload",
	  app_verify_cmd },
	{ "sign", "--key PEM --app-id ID --version N --vm VM... [--arg ARG]... "
		  "[--expires DURATION | --expires-at EPOCH] [--output FILE] PAYLOAD",
	  "write a signed manifest for PAYLOAD (default expiry 30 days)", app_sign_cmd },
	{ "keygen", "KEYFILE", "create an Ed25519 signing key (PEM, mode 0600)",
	  app_keygen },
	{ "pubkey", "KEYFILE", "key ID and raw public key, for the primary's policy",
	  app_pubkey },
	{ NULL }
};

const struct hvxctl_object hvxctl_app = {
	.name = "app",
	.help = "app protection: signed manifests, keys, verified apps",
	.cmds = app_cmds,
	.dflt = "list",
};
