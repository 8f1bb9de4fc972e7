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
#include "agent.h"
#include "log.h"

void admin_accept(struct agent *a, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct conn *c = conn_new(a, fd, CONN_ADMIN);

	if (!c) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.uid != 0)
		conn_send_error(a, c, PROTO_E_DENIED, "admin socket is for root only");
}

static void reply(struct agent *a, struct conn *c, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t need = s ? PROTO_HDR + 5 + strlen(s) : 0;
	uint8_t *p;

	json_decref(o);
	c->closing = true;
	if (!s || conn_reserve(c, need, &p) < 0 ||
	    proto_encode_admin(p, need, PROTO_ADMIN_REPLY, s, strlen(s)) < 0) {
		free(s);
		conn_send_error(a, c, PROTO_E_INTERNAL, "reply failed");
		return;
	}
	conn_commit(c, need);
	free(s);
	conn_flush(a, c);
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

	free(inf);
	return json_pack("{s:b, s:I, s:o, s:I, s:I, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:o, s:I}", "ok", 1,
			 "uptime", (json_int_t)(time(NULL) - a->started), "secrets",
			 r < 0 ? json_null() : json_integer((json_int_t)n), "connections",
			 (json_int_t)a->n_conns - 1, "watchers", (json_int_t)a->n_watchers,
			 "policy_digest", a->pol->digest, "policy_rules", (json_int_t)a->pol->n_rules,
			 "engine", a->eng ? json_string(engine_url(a->eng)) : json_null(),
			 "engine_reachable", a->eng ? json_boolean(a->engine_ok) : json_null(),
			 "requests", (json_int_t)a->requests, "released", (json_int_t)a->released,
			 "denied", (json_int_t)a->denied, "store_error",
			 a->store_err ? json_string(ks_strerror(a->store_err)) : json_null(),
			 "store_error_since", (json_int_t)a->store_err_since);
}

static json_t *do_reload(struct agent *a)
{
	char err[512];

	if (agent_reload_policy(a, err, sizeof(err)) < 0)
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
		json_t *x = json_pack("{s:s, s:s, s:s, s:O, s:b, s:s, s:b}", "name", m->name,
				      "image", m->image, "image_id", m->image_id, "labels",
				      m->labels ? m->labels : json_object(), "privileged",
				      m->privileged, "user", m->user, "root", m->root);
		json_object_update(o, x);
		json_decref(x);
	}
	if (o && c->k8s)
		json_object_set_new(o, "k8s", k8s_meta_json(c->k8s));
	if (o && c->meta_err[0])
		json_object_set_new(o, "metadata_error", json_string(c->meta_err));
	return o;
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
		json_array_append_new(rules, json_pack("{s:s, s:b, s:s}", "rule",
						       ev->rules[i].rule->name, "matched",
						       ev->rules[i].matched, "why", ev->rules[i].why));
	(void)ks_list(a->ks, &inf, &ninf);
	for (size_t i = 0; i < ev->n_grants; i++) {
		const struct policy_grant *g = ev->grants[i].grant;
		uint64_t v = 0;
		char mode[8];
		for (size_t k = 0; k < ninf; k++)
			if (strcmp(inf[k].name, g->secret) == 0)
				v = inf[k].version;
		snprintf(mode, sizeof(mode), "%04o", (unsigned)g->mode);
		json_array_append_new(rel, json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "secret",
						     g->secret, "file", g->file, "mode", mode, "rule",
						     ev->grants[i].rule->name, "in_store", v != 0,
						     "version", (json_int_t)v));
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
	else if (json_is_string(jc) && json_string_length(jc) >= 12 && json_string_length(jc) <= 64) {
		struct container_meta m;
		if (a->eng && engine_inspect(a->eng, json_string_value(jc), &m) == 0) {
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
	if (c.peer.cg.runtime != RT_HOST && (a->eng || a->kube) && dispatch_identify(a, &c) < 0)
		return err_reply(c.meta_err[0] ? c.meta_err
				 : "process is not in the pid namespace of its container");
	out = explain_json(a, &c);
	if (c.has_meta)
		container_meta_clear(&c.meta);
	k8s_meta_free(c.k8s);
	return out;
}

static json_t *admin_handle(struct agent *a, const char *json, size_t len)
{
	json_error_t je;
	json_t *rq = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *out;
	const char *cmd = json_string_value(json_object_get(rq, "cmd"));

	if (!json_is_object(rq) || !cmd)
		out = err_reply("request must be a JSON object with \"cmd\"");
	else if (strcmp(cmd, ADMIN_CMD_STATUS) == 0)
		out = do_status(a);
	else if (strcmp(cmd, ADMIN_CMD_RELOAD) == 0)
		out = do_reload(a);
	else if (strcmp(cmd, ADMIN_CMD_EXPLAIN) == 0)
		out = do_explain(a, rq);
	else
		out = err_reply("unknown command");
	json_decref(rq);
	return out;
}

void admin_readable(struct agent *a, struct conn *c)
{
	struct proto_msg m;
	uint32_t len = 0;
	bool eof = false;

	if (!c->rbuf) {
		c->rcap = PROTO_HDR + 8 + PROTO_MAX_ADMIN;
		if (!(c->rbuf = malloc(c->rcap))) {
			conn_close(a, c);
			return;
		}
	}
	while (c->rlen < c->rcap) {
		ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			eof = n == 0 || errno != EAGAIN;
			break;
		}
		c->rlen += (size_t)n;
	}
	if (proto_frame_check(c->rbuf, c->rlen, PROTO_MAX_ADMIN + 8, &len) == -EAGAIN) {
		if (eof)
			conn_close(a, c);
		return;
	}
	conn_pending_remove(a, c);
	if (c->rlen < PROTO_HDR + len || proto_decode(c->rbuf + PROTO_HDR, len, &m) < 0 ||
	    m.type != PROTO_ADMIN) {
		conn_send_error(a, c, PROTO_E_BADMSG, "expected one ADMIN frame");
		return;
	}
	reply(a, c, admin_handle(a, m.u.admin.json, m.u.admin.len));
}
