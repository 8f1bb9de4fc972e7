/* SPDX-License-Identifier: MIT */
/* `keyhole doctor [--json]`: check a host's keyhole setup the way a new user
 * would debug it, and say how to fix each problem: directories and modes,
 * the key against the store, the policy and its grants, the agent and its
 * engine, the socket directory (with the mount line), audit log space.
 * Read-only; exit 0 only when every check passes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/util.h"
#include "policy.h"
#include "template_load.h"

#define DOCTOR_MIN_FREE (64ull << 20) /* audit log: at least 64 MiB free */

static const char usage[] =
	"usage: keyhole doctor [--json]\n\n"
	"Check this host's keyhole setup and say how to fix each problem:\n"
	"the state and config directories and the store and key modes; that the\n"
	"key opens the store; that the policy loads and every granted secret\n"
	"exists; that keyholed is running (and its version) and its engine is\n"
	"reachable; that the agent socket directory exists (with the -v line for\n"
	"containers); that the audit log's file system has room (64 MiB).\n"
	"Paths come from the global options and /etc/keyhole/keyholed.conf.\n"
	"Exit 0 only when every check passes.\n";

struct doctor {
	struct cli_ctx *ctx;
	json_t *checks;
	bool json;
	unsigned failed;
	char policy[4096], socket[4096], audit[4096];
};

static void report(struct doctor *d, const char *check, bool ok, const char *fix, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));
static void report(struct doctor *d, const char *check, bool ok, const char *fix, const char *fmt,
		   ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	d->failed += !ok;
	if (d->json) {
		json_array_append_new(d->checks,
				      json_pack("{s:s, s:b, s:s, s:s?}", "check", check, "ok", ok,
						"detail", detail, "fix", ok ? NULL : fix));
		return;
	}
	printf("%-4s %-10s %s\n", ok ? "ok" : "FAIL", check, detail);
	if (!ok && fix)
		printf("     %-10s fix: %s\n", "", fix);
}

/* A directory or file with at most `max` mode bits, owned by us. */
static void check_mode(struct doctor *d, const char *check, const char *path, unsigned max,
		       bool dir)
{
	char fix[4200];
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(fix, sizeof(fix),
			 dir ? "mkdir -m %04o %s (keyhole init makes it)"
			     : "keyhole init (or give the right path)",
			 max, path);
		report(d, check, false, fix, "%s: %s", path, strerror(errno));
		return;
	}
	if ((st.st_mode & 07777 & ~max) || st.st_uid != geteuid()) {
		snprintf(fix, sizeof(fix), "chown %u %s && chmod %04o %s", (unsigned)geteuid(),
			 path, max, path);
		report(d, check, false, fix,
		       "%s: mode %04o owner uid %u (want at most %04o, uid %u)", path,
		       (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, max,
		       (unsigned)geteuid());
		return;
	}
	report(d, check, true, NULL, "%s: mode %04o", path, (unsigned)(st.st_mode & 07777));
}

static void dir_of(const char *path, char *buf, size_t n)
{
	const char *sl = strrchr(path, '/');
	size_t k = !sl ? 1 : sl == path ? 1 : (size_t)(sl - path);

	if (k >= n)
		k = n - 1;
	memcpy(buf, sl ? path : ".", k);
	buf[k] = '\0';
}

static void check_dirs(struct doctor *d)
{
	char b[4096];

	if (strstr(d->ctx->store, "://")) {
		report(d, "dirs", true, NULL, "store %s is remote (etcd)", d->ctx->store);
	} else {
		dir_of(d->ctx->store, b, sizeof(b));
		check_mode(d, "dirs", b, 0700, true);
		check_mode(d, "store", d->ctx->store, 0600, false);
	}
	if (d->ctx->passphrase_fd < 0)
		check_mode(d, "key", d->ctx->key_file, 0600, false);
	dir_of(d->policy, b, sizeof(b));
	check_mode(d, "dirs", b, 0755, true);
}

/* The key opens the store; returns the store's secrets (names) or NULL. */
static struct ks_info *check_key(struct doctor *d, size_t *n)
{
	struct ks_open_opts o = { .key_file = d->ctx->passphrase_fd < 0 ? d->ctx->key_file : NULL,
				  .passphrase_fd = d->ctx->passphrase_fd };
	struct ks_store *ks = NULL;
	struct ks_info *inf = NULL;
	int r = ks_open(d->ctx->store, &o, &ks);

	if (r < 0) {
		report(d, "key", false,
		       r == -EKEYREJECTED || r == -EACCES
			       ? "use the key file `keyhole init` wrote for this store (--key-file)"
			       : "see the error; `keyhole list` names the file that failed",
		       "%s does not open %s: %s", o.key_file ? o.key_file : "passphrase",
		       d->ctx->store, ks_strerror(r));
		o = (struct ks_open_opts){ .public_only = true, .passphrase_fd = -1 };
		if (ks_open(d->ctx->store, &o, &ks) < 0) /* names only, for the grants check */
			return NULL;
		r = ks_list(ks, &inf, n);
		ks_close(ks);
		return r == 0 ? inf : NULL;
	}
	r = ks_list(ks, &inf, n);
	report(d, "key", r == 0, "keyhole verify", "%s opens store %s (%zu secret%s)",
	       o.key_file ? o.key_file : "passphrase", ks_store_id(ks), r == 0 ? *n : 0,
	       cli_plural(r == 0 ? *n : 0));
	ks_close(ks);
	return r == 0 ? inf : NULL;
}

static bool has(const struct ks_info *inf, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(inf[i].name, name) == 0)
			return true;
	return false;
}

/* Returns whether a rule needs the engine (name/image/labels/require). */
static bool check_policy(struct doctor *d, const struct ks_info *inf, size_t n)
{
	char *buf = NULL, err[512], fix[600];
	struct policy *p = NULL;
	size_t len = 0, missing = 0;
	bool engine = false;
	int r = cli_read_small_file(d->policy, POLICY_MAX_BYTES, &buf, &len);

	if (r < 0 || policy_parse(buf, len, &p, err, sizeof(err)) < 0 ||
	    tmpl_policy_load(p, d->policy, err, sizeof(err)) < 0) {
		policy_free(p);
		report(d, "policy", false,
		       "write the policy (docs/policy.md), then keyhole policy "
		       "check FILE",
		       "%s: %s", d->policy, r < 0 ? strerror(-r) : err);
		free(buf);
		return false;
	}
	free(buf);
	report(d, "policy", true, NULL, "%s loads: %zu rule%s", d->policy, p->n_rules,
	       cli_plural(p->n_rules));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *ru = &p->rules[i];
		engine |= ru->name_glob || ru->image_glob || ru->image_id || ru->n_labels ||
			  ru->req_unprivileged || ru->req_nonroot;
		for (size_t g = 0; inf && g < ru->n_grants; g++)
			if (!ru->grants[g].template && /* its secrets are granted too */
			    !has(inf, n, ru->grants[g].secret) && ++missing) {
				snprintf(fix, sizeof(fix), "keyhole put %s < VALUE",
					 ru->grants[g].secret);
				report(d, "grants", false, fix,
				       "rule %s grants %s, which is not in the store", ru->name,
				       ru->grants[g].secret);
			}
	}
	if (inf && !missing)
		report(d, "grants", true, NULL, "every granted secret is in the store");
	policy_free(p);
	return engine;
}

static void check_agent(struct doctor *d, bool needs_engine)
{
	json_t *rq = json_pack("{s:s}", "cmd", "status"), *r = NULL;
	int e = admin_call(d->ctx->admin_socket, rq, &r);
	const char *ver, *eng;

	json_decref(rq);
	if (e < 0) {
		report(d, "agent", false,
		       "systemctl start keyholed (or run keyholed); then "
		       "journalctl -u keyholed",
		       "no keyholed on %s: %s", d->ctx->admin_socket, strerror(-e));
		return;
	}
	ver = json_string_value(json_object_get(r, "version"));
	report(d, "agent", true, NULL, "keyholed %s running (%lld secrets)%s",
	       ver ? ver : "(older than 0.2.0)",
	       (long long)json_integer_value(json_object_get(r, "secrets")),
	       ver && strcmp(ver, KH_VERSION) ? ", this keyhole is " KH_VERSION : "");
	eng = json_string_value(json_object_get(r, "engine"));
	if (!eng)
		report(d, "engine", !needs_engine,
		       "set `engine unix:///run/docker.sock` in " KH_DEFAULT_CONFIG
		       " and restart keyholed",
		       needs_engine ? "no engine configured, but rules match on name/image/labels/"
				      "require: they match no container"
				    : "none configured (the rules need none)");
	else
		report(d, "engine", json_is_true(json_object_get(r, "engine_reachable")),
		       "start the engine, or fix `engine` in " KH_DEFAULT_CONFIG, "%s %s", eng,
		       json_is_true(json_object_get(r, "engine_reachable")) ? "reachable"
									    : "NOT reachable");
	json_decref(r);
}

static void check_socket_dir(struct doctor *d)
{
	char dir[4096], fix[4200];
	struct stat st;

	dir_of(d->socket, dir, sizeof(dir));
	snprintf(fix, sizeof(fix),
		 "start keyholed (it creates %s); in the unit: "
		 "RuntimeDirectory=keyhole",
		 dir);
	if (stat(d->socket, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		report(d, "socket", false, fix, "%s: %s", d->socket,
		       strerror(errno ? errno : ENOTSOCK));
		return;
	}
	report(d, "socket", true, NULL, "%s; containers mount it with -v %s:%s", d->socket, dir,
	       dir);
}

static void check_audit_space(struct doctor *d)
{
	char dir[4096];
	struct statvfs sv;
	unsigned long long avail;

	if (!d->audit[0]) {
		report(d, "audit", true, NULL, "no audit log configured (audit-log in %s)",
		       d->ctx->config);
		return;
	}
	dir_of(d->audit, dir, sizeof(dir));
	if (statvfs(dir, &sv) < 0) {
		report(d, "audit", false, "create it: mkdir -m 0700 DIR (LogsDirectory=keyhole)",
		       "%s: %s", dir, strerror(errno));
		return;
	}
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	report(d, "audit", avail >= DOCTOR_MIN_FREE,
	       "free space there, or rotate the audit log "
	       "(/etc/logrotate.d/keyhole)",
	       "%s: %llu MiB free (want %llu)", dir, avail >> 20, DOCTOR_MIN_FREE >> 20);
}

static void paths(struct doctor *d)
{
	if (!cli_config_get(d->ctx, "policy", d->policy, sizeof(d->policy)))
		snprintf(d->policy, sizeof(d->policy), "%s", KH_DEFAULT_POLICY);
	if (!cli_config_get(d->ctx, "socket", d->socket, sizeof(d->socket)))
		snprintf(d->socket, sizeof(d->socket), "%s", KH_DEFAULT_SOCKET);
	if (!cli_audit_path(d->ctx, d->audit, sizeof(d->audit)))
		d->audit[0] = '\0';
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct doctor d = { .ctx = ctx };
	struct ks_info *inf;
	size_t n = 0;
	int r;

	if ((r = cli_parse_json_flag("doctor", argc, argv, &d.json)))
		return r;
	if (optind != argc)
		return cli_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	d.checks = json_array();
	paths(&d);
	check_dirs(&d);
	inf = check_key(&d, &n);
	bool engine = check_policy(&d, inf, n);
	free(inf);
	check_agent(&d, engine);
	check_socket_dir(&d);
	check_audit_space(&d);
	if (d.json) {
		r = cli_print_json(json_pack("{s:b, s:I, s:o}", "ok", d.failed == 0, "failed",
					     (json_int_t)d.failed, "checks", d.checks));
		return r ? r : d.failed ? CLI_EFAIL : CLI_OK;
	}
	json_decref(d.checks);
	printf("%s\n",
	       d.failed ? "some checks failed: see the fix lines above" : "all checks passed");
	return d.failed ? CLI_EFAIL : CLI_OK;
}

CLI_COMMAND(doctor, .name = "doctor", .summary = "check the host's setup and say how to fix it",
	    .usage = usage, .run = run);
