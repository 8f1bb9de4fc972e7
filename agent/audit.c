/* SPDX-License-Identifier: MIT */
/* Audit log writer: JSON lines built with jansson (so hostile container
 * names and labels are escaped), one write(2) per line. The event carries
 * no value field at all: a value cannot reach the log by mistake. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

struct audit {
	int fd;
	int own;
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
	}
	*ret = a;
	return 0;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->own)
		close(a->fd);
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
	json_object_set_new(o, "version", ev->version ? json_integer((json_int_t)ev->version)
						      : json_null());
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

int audit_write(struct audit *a, const struct audit_event *ev)
{
	struct timespec ts;
	char *line;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	line = audit_format(ev, &ts);
	if (!line)
		return -ENOMEM;
	r = io_write_all(a->fd, line, strlen(line));
	free(line);
	return r;
}
