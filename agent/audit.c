/* SPDX-License-Identifier: MIT */
/* Audit log writer: JSON lines built with jansson (so hostile container
 * names and labels are escaped), one write(2) per line, or one per batch
 * while held (watcher pushes). The event carries
 * no value field at all: a value cannot reach the log by mistake. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"
#include "proto.h"

#define HUSH_SLOTS 1024u

/* One identity's window: what was written and what was only counted. */
struct hush {
	char key[96];
	uint64_t start_ms;
	unsigned refused, denied;     /* seen in the window */
	unsigned n_refused, n_denied; /* of which not written */
	char first[128];	      /* the first reason not written */
};

struct audit {
	int fd;
	int own;
	char *path;
	bool held;    /* audit_hold: lines collect in buf */
	int held_err; /* the first failed write while held */
	char *buf;    /* held lines (no values: ordinary heap) */
	size_t len, cap;
	unsigned pending; /* slots with counts not yet summarised */
	struct hush h[HUSH_SLOTS];
};

const char *audit_decision_name(enum audit_decision d)
{
	switch (d) {
	case AUDIT_RELEASE: return "release";
	case AUDIT_DENY: return "deny";
	case AUDIT_REVOKE: return "revoke";
	case AUDIT_PUSH: return "push";
	case AUDIT_REFUSE: return "refuse";
	case AUDIT_STORE: return "store";
	case AUDIT_SUMMARY: return "summary";
	case AUDIT_PUT: return "put";
	case AUDIT_ROTATE: return "rotate";
	case AUDIT_RM: return "rm";
	case AUDIT_RELOAD: return "reload";
	}
	return "unknown";
}

int audit_open(const char *path, struct audit **ret)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		a->fd = STDOUT_FILENO;
	} else {
		a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (a->fd < 0) {
			int e = -errno;
			free(a);
			return e;
		}
		a->own = 1;
		if (!(a->path = strdup(path))) {
			close(a->fd);
			free(a);
			return -ENOMEM;
		}
	}
	*ret = a;
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	(void)audit_release(a);
	(void)audit_flush(a, UINT64_MAX);
	if (a->own)
		close(a->fd);
	free(a->buf);
	free(a->path);
	free(a);
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void add_identity(json_t *o, const struct policy_identity *id)
{
	const struct peer *pe = id ? id->peer : NULL;
	const struct container_meta *m = id ? id->meta : NULL;

	if (pe) {
		json_object_set_new(o, "pid", json_integer(pe->pid));
		json_object_set_new(o, "uid", json_integer(pe->uid));
		json_object_set_new(o, "gid", json_integer(pe->gid));
		set_str(o, "runtime", runtime_name(pe->cg.runtime));
		set_str(o, "container_id", pe->cg.id[0] ? pe->cg.id : NULL);
	} else {
		json_object_set_new(o, "pid", json_null());
		json_object_set_new(o, "uid", json_null());
		json_object_set_new(o, "gid", json_null());
		set_str(o, "runtime", NULL);
		set_str(o, "container_id", NULL);
	}
	set_str(o, "name", m ? m->name : NULL);
	set_str(o, "image", m ? m->image : NULL);
	if (id && id->k8s) { /* a pod's container, in the kubelet's words */
		set_str(o, "namespace", id->k8s->namespace);
		set_str(o, "pod", id->k8s->pod_name);
		set_str(o, "service_account", id->k8s->service_account);
		set_str(o, "container", id->k8s->container_name);
	}
}

char *audit_format(const struct audit_event *ev, const struct timespec *ts)
{
	struct tm tm;
	char t[64], ms[16], *s, *line;
	json_t *o = json_object();
	size_t n;

	if (!o)
		return NULL;
	gmtime_r(&ts->tv_sec, &tm);
	strftime(t, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ms, sizeof(ms), ".%03uZ", (unsigned)((ts->tv_nsec / 1000000) % 1000));
	strcat(t, ms);
	set_str(o, "time", t);
	add_identity(o, ev->id);
	set_str(o, "rule", ev->rule);
	set_str(o, "secret", ev->secret);
	json_object_set_new(o, "version",
			    ev->version ? json_integer((json_int_t)ev->version) : json_null());
	set_str(o, "decision", audit_decision_name(ev->decision));
	set_str(o, "reason", ev->reason);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

/* Write out the held lines: 0, or the first error since audit_hold. */
static int drain(struct audit *a)
{
	int r = a->len ? io_write_all(a->fd, a->buf, a->len) : 0;

	a->len = 0;
	if (r < 0 && !a->held_err)
		a->held_err = r;
	return a->held_err;
}

static int hold_line(struct audit *a, const char *line, size_t n)
{
	if (a->len + n > AUDIT_HOLD_MAX)
		(void)drain(a); /* early, but still before any frame it vouches for */
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 64u << 10;
		char *b;
		while (cap < a->len + n)
			cap *= 2;
		if (!(b = realloc(a->buf, cap)))
			return drain(a) < 0 ? a->held_err : io_write_all(a->fd, line, n);
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, line, n);
	a->len += n;
	return 0;
}

static int write_line(struct audit *a, const struct audit_event *ev)
{
	struct timespec ts;
	char *line;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	line = audit_format(ev, &ts);
	if (!line)
		return -ENOMEM;
	r = a->held ? hold_line(a, line, strlen(line)) : io_write_all(a->fd, line, strlen(line));
	free(line);
	return r;
}

void audit_hold(struct audit *a)
{
	if (!a)
		return;
	a->held = true;
	a->held_err = 0;
}

int audit_release(struct audit *a)
{
	int r;

	if (!a || !a->held)
		return 0;
	r = drain(a);
	a->held = false;
	a->held_err = 0;
	if (a->cap > AUDIT_HOLD_KEEP) { /* one big resync does not keep its buffer */
		free(a->buf);
		a->buf = NULL;
		a->cap = 0;
	}
	return r;
}

static void identity_key(const struct policy_identity *id, char *buf, size_t len)
{
	const struct peer *p = id ? id->peer : NULL;

	if (!p)
		snprintf(buf, len, "unattested");
	else
		peer_identity_key(p, buf, len);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static bool idle(const struct hush *e, uint64_t now)
{
	return !e->key[0] ||
	       (now - e->start_ms >= AUDIT_WINDOW_MS && !(e->n_refused + e->n_denied));
}

/* The identity's slot (an idle one is recycled). When every probed slot is
 * busy with other identities, the caller is counted under the shared "*"
 * slot 0, which is never recycled for one identity. */
static struct hush *hush_slot(struct audit *a, const char *key, uint64_t now)
{
	uint32_t h = hash(key);
	struct hush *free_e = NULL;

	for (unsigned i = 0; i < 16; i++) {
		struct hush *e = &a->h[1 + (h + i) % (HUSH_SLOTS - 1)];
		if (strcmp(e->key, key) == 0)
			return e;
		if (!free_e && idle(e, now))
			free_e = e;
	}
	if (free_e) {
		memset(free_e, 0, sizeof(*free_e));
		snprintf(free_e->key, sizeof(free_e->key), "%s", key);
		return free_e;
	}
	snprintf(a->h[0].key, sizeof(a->h[0].key), "*");
	return &a->h[0];
}

static int summarise(struct audit *a, struct hush *e)
{
	char why[PROTO_MAX_REASON + 1];
	struct audit_event ev = { .decision = AUDIT_SUMMARY, .reason = why };

	snprintf(why, sizeof(why),
		 "%s: %u refusals and %u denials in %u s not written one by one "
		 "(first: %s)",
		 e->key, e->n_refused, e->n_denied, AUDIT_WINDOW_MS / 1000, e->first);
	return write_line(a, &ev);
}

/* true: write this refusal/denial; false: only counted. */
static bool hush_admit(struct audit *a, const struct audit_event *ev, uint64_t now)
{
	char key[96];
	struct hush *e;
	bool deny = ev->decision == AUDIT_DENY, write;

	identity_key(ev->id, key, sizeof(key));
	e = hush_slot(a, key, now);
	if (now - e->start_ms >= AUDIT_WINDOW_MS || !e->start_ms) {
		if (e->n_refused + e->n_denied) {
			(void)summarise(a, e);
			a->pending--;
		}
		e->start_ms = now ? now : 1;
		e->refused = e->denied = e->n_refused = e->n_denied = 0;
	}
	write = deny ? e->denied++ < AUDIT_DENY_BUDGET : e->refused++ == 0;
	if (write)
		return true;
	if (!(e->n_refused + e->n_denied)) {
		a->pending++;
		snprintf(e->first, sizeof(e->first), "%s", ev->reason ? ev->reason : "");
	}
	if (deny)
		e->n_denied++;
	else
		e->n_refused++;
	return false;
}

int audit_write_at(struct audit *a, const struct audit_event *ev, uint64_t mono_ms)
{
	if ((ev->decision == AUDIT_REFUSE || ev->decision == AUDIT_DENY) &&
	    !hush_admit(a, ev, mono_ms))
		return 0;
	return write_line(a, ev);
}

int audit_write(struct audit *a, const struct audit_event *ev)
{
	return audit_write_at(a, ev, clock_ms());
}

bool audit_flush(struct audit *a, uint64_t mono_ms)
{
	for (unsigned i = 0; a->pending && i < HUSH_SLOTS; i++) {
		struct hush *e = &a->h[i];
		if (!(e->n_refused + e->n_denied) || mono_ms - e->start_ms < AUDIT_WINDOW_MS)
			continue;
		(void)summarise(a, e);
		e->n_refused = e->n_denied = 0;
		a->pending--;
	}
	return a->pending > 0;
}

int audit_reopen(struct audit *a)
{
	int fd;

	if (!a->own)
		return 0;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (dup3(fd, a->fd, O_CLOEXEC) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

int audit_space(struct audit *a, uint64_t *ret_free, unsigned *ret_pct)
{
	struct statvfs sv;

	if (fstatvfs(a->fd, &sv) < 0)
		return -errno;
	*ret_free = (uint64_t)sv.f_bavail * sv.f_frsize;
	*ret_pct = sv.f_blocks ? (unsigned)((uint64_t)sv.f_bavail * 100u / sv.f_blocks) : 100u;
	return 0;
}
