/* SPDX-License-Identifier: MIT */
/* The admin socket: status, reload, explain (agent/admin.h). The peer must
 * be uid 0 by SO_PEERCRED; requests are capped and parsed with jansson.
 * explain attests a pid the way a connection is attested (cgroup, engine,
 * pid namespace) and returns each rule's verdict and what would be released. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "defaults.h"
#include "identify.h"
#include "log.h"
#include "reload.h"
#include "template_load.h"

void admin_accept(struct agent *a, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct conn *c = conn_new(&a->cs, fd, CONN_ADMIN);

	if (!c) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.uid != 0)
		conn_send_error(&a->cs, c, PROTO_E_DENIED, "admin socket is for root only");
}

static void reply(struct agent *a, struct conn *c, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t need = s ? PROTO_HDR + 5 + strlen(s) : 0;
	uint8_t *p;

	json_decref(o);
	c->closing = true;
	if (!s || conn_reserve(&a->cs, c, need, &p) < 0 ||
	    proto_encode_admin(p, need, PROTO_ADMIN_REPLY, s, strlen(s)) < 0) {
		free(s);
		conn_send_error(&a->cs, c, PROTO_E_INTERNAL, "reply failed");
		return;
	}
	conn_commit(c, need);
	free(s);
	conn_flush(&a->cs, c);
}

static json_t *err_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *do_status(struct agent *a)
{
	struct ks_info *inf = NULL;
	size_t n = 0;
	int r = ks_list(a->ks, &inf, &n);
	json_t *refused = json_array(), *o;

	/* records refused by a keystore check (signature, corrupt, rollback) */
	for (size_t i = 0; r == 0 && i < n; i++)
		if (inf[i].err)
			json_array_append_new(refused, json_pack("{s:s, s:s}", "name", inf[i].name,
								 "error", ks_strerror(inf[i].err)));
	free(inf);
	o = json_pack("{s:b, s:s, s:I, s:o, s:I, s:I, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:o, s:I}",
		      "ok", 1, "version", KH_VERSION, "uptime",
		      (json_int_t)(time(NULL) - a->started), "secrets",
		      r < 0 ? json_null() : json_integer((json_int_t)n), "connections",
		      (json_int_t)a->cs.n - 1, "watchers", (json_int_t)a->cs.n_watchers,
		      "policy_digest", a->pol->digest, "policy_rules", (json_int_t)a->pol->n_rules,
		      "engine", a->eng ? json_string(engine_url(a->eng)) : json_null(),
		      "engine_reachable", a->eng ? json_boolean(a->idf.engine_ok) : json_null(),
		      "requests", (json_int_t)a->requests, "released", (json_int_t)a->rel.released,
		      "denied", (json_int_t)a->rel.denied, "store_error",
		      a->store_err ? json_string(ks_strerror(a->store_err)) : json_null(),
		      "store_error_since", (json_int_t)a->store_err_since);
	if (o && a->audit) {
		json_object_set_new(o, "audit_free_mb",
				    json_integer((json_int_t)(a->audit_free >> 20)));
		json_object_set_new(o, "audit_space_low", json_boolean(a->audit_low));
	}
	if (o && refused)
		json_object_set(o, "refused", refused);
	json_decref(refused);
	return o;
}

static json_t *do_reload(struct agent *a)
{
	char err[512];

	if (reload_policy(a, err, sizeof(err)) < 0)
		return err_reply(err);
	return json_pack("{s:b, s:s, s:I}", "ok", 1, "policy_digest", a->pol->digest,
			 "policy_rules", (json_int_t)a->pol->n_rules);
}

/* uid/gid (effective, as SO_PEERCRED reports them) of pid from /proc. */
static int proc_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
	char path[64], line[256];
	unsigned r1, e1, r2, e2;
	int got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u", &r1, &e1) == 2) {
			*uid = e1;
			got |= 1;
		} else if (sscanf(line, "Gid: %u %u", &r2, &e2) == 2) {
			*gid = e2;
			got |= 2;
		}
	}
	fclose(f);
	return got == 3 ? 0 : -EBADMSG;
}

/* A pid whose cgroup names container id (or an id prefix of >= 12). */
static pid_t find_container_pid(const char *id)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned seen = 0;
	pid_t found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)) && seen++ < 1000000) {
		struct cg_identity cg;
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		if (peer_read_cgroup((pid_t)pid, &cg) == 0 && cg.runtime != RT_HOST &&
		    strncmp(cg.id, id, strlen(id)) == 0)
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

static json_t *identity_json(const struct conn *c)
{
	const struct container_meta *m = c->has_meta ? &c->meta : NULL;
	json_t *o = json_pack("{s:i, s:I, s:I, s:s, s:s?, s:s}", "pid", (int)c->peer.pid, "uid",
			      (json_int_t)c->peer.uid, "gid", (json_int_t)c->peer.gid, "runtime",
			      runtime_name(c->peer.cg.runtime), "container_id",
			      c->peer.cg.id[0] ? c->peer.cg.id : NULL, "cgroup", c->peer.cg.path);

	if (o && m) {
		json_t *x =
			json_pack("{s:s, s:s, s:s, s:O?, s:b, s:s, s:b}", "name", m->name, "image",
				  m->image, "image_id", m->image_id, "labels", m->labels,
				  "privileged", m->privileged, "user", m->user, "root", m->root);
		json_t *p =
			json_pack("{s:O?, s:O?, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:i}", "cap_add",
				  m->cap_add, "binds", m->binds, "host_pid", m->host_pid,
				  "host_ipc", m->host_ipc, "host_net", m->host_net, "host_userns",
				  m->host_userns, "seccomp_unconfined", m->seccomp_unconfined,
				  "apparmor_unconfined", m->apparmor_unconfined, "paths_unmasked",
				  m->paths_unmasked, "devices", (int)m->n_devices);
		json_object_update(o, x);
		json_object_update(o, p);
		json_decref(x);
		json_decref(p);
	}
	if (o && c->k8s)
		json_object_set_new(o, "k8s", k8s_meta_json(c->k8s));
	if (o && c->meta_err[0])
		json_object_set_new(o, "metadata_error", json_string(c->meta_err));
	return o;
}

/* "env" / "env_file" of a grant, and "writes_file": false for an env grant
 * without a file (docs/policy.md "Delivery: env_file and env"). */
static void delivery_json(json_t *o, const struct policy_grant *g)
{
	if (!o)
		return;
	if (g->env)
		json_object_set_new(o, "env", json_string(g->env));
	if (g->env_file)
		json_object_set_new(o, "env_file", json_string(g->env_file));
	json_object_set_new(o, "writes_file", json_boolean(g->delivery & PROTO_D_FILE));
}

static json_t *explain_json(struct agent *a, const struct conn *c)
{
	struct policy_identity id;
	struct policy_eval *ev = NULL;
	json_t *rules = json_array(), *rel = json_array();
	struct ks_info *inf = NULL;
	size_t ninf = 0;

	conn_identity(c, &id);
	if (!rules || !rel || policy_eval(a->pol, &id, &ev) < 0) {
		json_decref(rules);
		json_decref(rel);
		return err_reply("out of memory");
	}
	for (size_t i = 0; i < ev->n_rules; i++)
		json_array_append_new(
			rules, json_pack("{s:s, s:b, s:s}", "rule", ev->rules[i].rule->name,
					 "matched", ev->rules[i].matched, "why", ev->rules[i].why));
	(void)ks_list(a->ks, &inf, &ninf);
	for (size_t i = 0; i < ev->n_grants; i++) {
		const struct policy_grant *g = ev->grants[i].grant;
		uint64_t v = 0;
		char mode[8];
		json_t *o, *t = tmpl_grant_json(g); /* NULL: a plain grant */
		for (size_t k = 0; !g->template && k < ninf; k++)
			if (strcmp(inf[k].name, g->secret) == 0)
				v = inf[k].version;
		if (g->tmpl)
			v = tmpl_store_version(g->tmpl, inf, ninf);
		snprintf(mode, sizeof(mode), "%04o", (unsigned)g->mode);
		o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "secret", g->secret, "file",
			      g->file, "mode", mode, "rule", ev->grants[i].rule->name, "in_store",
			      v != 0, "version", (json_int_t)v);
		if (o && t)
			json_object_update(o, t);
		json_decref(t);
		delivery_json(o, g);
		json_array_append_new(rel, o);
	}
	free(inf);
	policy_eval_free(ev);
	return json_pack("{s:b, s:o, s:s, s:o, s:o}", "ok", 1, "identity", identity_json(c),
			 "policy_digest", a->pol->digest, "rules", rules, "release", rel);
}

static json_t *do_explain(struct agent *a, json_t *rq)
{
	json_t *jp = json_object_get(rq, "pid"), *jc = json_object_get(rq, "container"), *out;
	struct conn c = { .fd = -1, .peer.pidfd = -1 };
	pid_t pid = 0;
	int r;

	if (json_is_integer(jp) && json_integer_value(jp) > 0 && json_integer_value(jp) < (1 << 22))
		pid = (pid_t)json_integer_value(jp);
	else if (json_is_string(jc) && json_string_length(jc) >= 12 &&
		 json_string_length(jc) <= 64) {
		struct container_meta m;
		if (a->eng_admin && engine_inspect(a->eng_admin, json_string_value(jc), &m) == 0) {
			pid = m.pid;
			container_meta_clear(&m);
		}
		if (pid <= 0)
			pid = find_container_pid(json_string_value(jc));
		if (pid <= 0)
			return err_reply("no running process found in that container");
	} else {
		return err_reply("explain needs \"pid\" (integer) or \"container\" (12..64 hex)");
	}
	c.peer.pid = pid;
	if ((r = proc_ids(pid, &c.peer.uid, &c.peer.gid)) < 0 ||
	    (r = peer_read_cgroup(pid, &c.peer.cg)) < 0) {
		char e[128];
		snprintf(e, sizeof(e), "cannot attest pid %d: %s", (int)pid, strerror(-r));
		return err_reply(e);
	}
	if (c.peer.cg.runtime != RT_HOST &&
	    identify_now(&a->idf, a->eng_admin, a->kube_admin, &c) < 0)
		return err_reply(c.meta_err[0] ? c.meta_err : "process is not its container's");
	out = explain_json(a, &c);
	if (c.has_meta)
		container_meta_clear(&c.meta);
	k8s_meta_free(c.k8s);
	return out;
}

static json_t *watcher_json(const struct conn *c)
{
	return json_pack("{s:i, s:s?, s:s?}", "pid", (int)c->peer.pid, "container",
			 c->has_meta ? c->meta.name : NULL, "id",
			 c->peer.cg.id[0] ? c->peer.cg.id : NULL);
}

/* Who depends on a secret: the rules granting it, the watchers holding it
 * (for `keyhole rm`, which refuses without --force while there are any). */
static json_t *do_holders(struct agent *a, json_t *rq)
{
	const char *secret = json_string_value(json_object_get(rq, "secret"));
	json_t *rules = json_array(), *w = json_array();

	if (!secret || !proto_secret_name_valid(secret)) {
		json_decref(rules);
		json_decref(w);
		return err_reply("holders needs \"secret\": a valid secret name");
	}
	for (size_t i = 0; i < a->pol->n_rules; i++)
		for (size_t g = 0; g < a->pol->rules[i].n_grants; g++)
			if (strcmp(a->pol->rules[i].grants[g].secret, secret) == 0) {
				json_array_append_new(rules, json_string(a->pol->rules[i].name));
				break;
			}
	for (const struct conn *c = a->cs.head; c; c = c->next)
		for (size_t h = 0; c->watching && !c->dead && h < c->n_held; h++)
			if (strcmp(c->held[h].name, secret) == 0 && c->held[h].version) {
				json_array_append_new(w, watcher_json(c));
				break;
			}
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "rules", rules, "watchers", w);
}

static bool watcher_wants(const struct conn *c, const char *secret)
{
	if (c->want_all)
		return true;
	for (size_t i = 0; i < c->n_want; i++)
		if (strcmp(c->want[i], secret) == 0)
			return true;
	return false;
}

/* Secrets granted by `from` and not by `to`, that c asks for, into arr. */
static void grants_diff(const struct conn *c, const struct policy_eval *from,
			const struct policy_eval *to, json_t *arr)
{
	for (size_t i = 0; i < from->n_grants; i++) {
		const char *s = from->grants[i].grant->secret;
		if (watcher_wants(c, s) && !policy_eval_find(to, s))
			json_array_append_new(arr, json_string(s));
	}
}

static json_t *plan_for(struct agent *a, const struct policy *np, const struct conn *c)
{
	struct policy_identity id;
	struct policy_eval *o = NULL, *n = NULL;
	json_t *gain = json_array(), *lose = json_array(), *out = NULL;

	conn_identity(c, &id);
	if (gain && lose && policy_eval(a->pol, &id, &o) == 0 && policy_eval(np, &id, &n) == 0) {
		grants_diff(c, n, o, gain);
		grants_diff(c, o, n, lose);
		if (json_array_size(gain) || json_array_size(lose)) {
			out = watcher_json(c);
			json_object_set(out, "gain", gain);
			json_object_set(out, "lose", lose);
		}
	}
	json_decref(gain);
	json_decref(lose);
	policy_eval_free(o);
	policy_eval_free(n);
	return out;
}

/* `keyhole reload --dry-run`: parse the policy file, change nothing. */
static json_t *do_reload_plan(struct agent *a)
{
	char err[512];
	struct policy *np = NULL;
	json_t *changes = json_array(), *out;

	if (reload_parse(a, &np, err, sizeof(err)) < 0 || !changes) {
		json_decref(changes);
		return err_reply(changes ? err : "out of memory");
	}
	for (const struct conn *c = a->cs.head; c; c = c->next) {
		json_t *ch = c->watching && !c->dead ? plan_for(a, np, c) : NULL;
		if (ch)
			json_array_append_new(changes, ch);
	}
	out = json_pack("{s:b, s:s, s:s, s:I, s:o}", "ok", 1, "policy_digest", np->digest,
			"current_digest", a->pol->digest, "policy_rules", (json_int_t)np->n_rules,
			"changes", changes);
	policy_free(np);
	return out;
}

static json_t *admin_handle(struct agent *a, const char *json, size_t len)
{
	json_error_t je;
	json_auto_t *rq = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	const char *cmd = json_string_value(json_object_get(rq, "cmd"));

	if (!json_is_object(rq) || !cmd)
		return err_reply("request must be a JSON object with \"cmd\"");
	if (strcmp(cmd, ADMIN_CMD_STATUS) == 0)
		return do_status(a);
	if (strcmp(cmd, ADMIN_CMD_RELOAD) == 0)
		return do_reload(a);
	if (strcmp(cmd, ADMIN_CMD_EXPLAIN) == 0)
		return do_explain(a, rq);
	if (strcmp(cmd, ADMIN_CMD_HOLDERS) == 0)
		return do_holders(a, rq);
	if (strcmp(cmd, ADMIN_CMD_RELOAD_PLAN) == 0)
		return do_reload_plan(a);
	return err_reply("unknown command");
}

void admin_readable(struct agent *a, struct conn *c)
{
	struct proto_admin m;
	uint32_t len = 0;
	int r = conn_read_frame(c, PROTO_MAX_ADMIN + 8, &len);

	if (r == 0)
		return;
	if (r == -EPIPE || r == -ECONNRESET || r == -ENOMEM) {
		conn_close(&a->cs, c);
		return;
	}
	conn_pending_remove(&a->cs, c);
	if (r < 0 || proto_decode_admin(c->rbuf + PROTO_HDR, len, PROTO_ADMIN, &m) < 0) {
		conn_send_error(&a->cs, c, PROTO_E_BADMSG, "expected one ADMIN frame");
		return;
	}
	reply(a, c, admin_handle(a, m.json, m.len));
	conn_wipe_request(c);
}
