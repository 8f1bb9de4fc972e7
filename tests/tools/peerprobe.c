/* SPDX-License-Identifier: MIT */
/* peerprobe: attest whoever dials a unix socket and print one JSON line per
 * connection (identity, engine metadata, or the error), then hang up.
 * Integration tests use it to attest real processes without keyholed.
 *   peerprobe SOCKET [--engine unix:///PATH] [--count N] [--wait-file PATH]
 * --wait-file: after accept, wait until PATH exists before attesting (lets
 * a test make the peer exit first, deterministically). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "peer.h"

static void err_field(json_t *o, const char *key, int r)
{
	json_object_set_new(o, key, json_string(strerrorname_np(-r) ? strerrorname_np(-r) : "?"));
}

static void add_engine(json_t *o, struct engine *e, const struct peer *p)
{
	struct container_meta m;
	int r = engine_inspect(e, p->cg.id, &m);

	if (r < 0) {
		err_field(o, "engine_error", r);
		return;
	}
	r = peer_same_pidns(p->pid, m.pid);
	if (r != 1)
		engine_forget(e, p->cg.id);
	json_object_set_new(o, "same_pidns", r < 0 ? json_null() : json_boolean(r == 1));
	json_object_set_new(o, "name", json_string(m.name));
	json_object_set_new(o, "image", json_string(m.image));
	json_object_set_new(o, "image_id", json_string(m.image_id));
	json_object_set_new(o, "labels", json_incref(m.labels));
	json_object_set_new(o, "engine_pid", json_integer(m.pid));
	json_object_set_new(o, "privileged", json_boolean(m.privileged));
	json_object_set_new(o, "user", json_string(m.user));
	json_object_set_new(o, "root", json_boolean(m.root));
	container_meta_clear(&m);
}

static void wait_file(const char *path)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct stat st;

	for (int i = 0; i < 3000 && stat(path, &st) < 0; i++)
		nanosleep(&ts, NULL);
}

static void probe(int c, struct engine *e, const char *gate)
{
	struct peer p;
	json_t *o = json_object();
	char *line;
	int r;

	if (gate)
		wait_file(gate);
	r = peer_attest(c, &p);
	if (r < 0) {
		err_field(o, "error", r);
	} else {
		json_object_set_new(o, "pid", json_integer(p.pid));
		json_object_set_new(o, "uid", json_integer(p.uid));
		json_object_set_new(o, "gid", json_integer(p.gid));
		json_object_set_new(o, "runtime", json_string(runtime_name(p.cg.runtime)));
		json_object_set_new(o, "id", json_string(p.cg.id));
		json_object_set_new(o, "cgroup", json_string(p.cg.path));
		json_object_set_new(o, "via_peerpidfd", json_boolean(p.via_peerpidfd));
		if (e && p.cg.runtime != RT_HOST)
			add_engine(o, e, &p);
		peer_release(&p);
	}
	line = json_dumps(o, JSON_COMPACT);
	if (line)
		printf("%s\n", line);
	fflush(stdout);
	free(line);
	json_decref(o);
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "engine", required_argument, NULL, 'e' },
					      { "count", required_argument, NULL, 'n' },
					      { "wait-file", required_argument, NULL, 'w' },
					      { NULL, 0, NULL, 0 } };
	const char *url = NULL, *gate = NULL;
	struct engine *e = NULL;
	long count = -1;
	int o, l;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'e')
			url = optarg;
		else if (o == 'n')
			count = strtol(optarg, NULL, 10);
		else if (o == 'w')
			gate = optarg;
		else
			return 100;
	}
	if (optind != argc - 1) {
		fprintf(stderr,
			"usage: peerprobe SOCKET [--engine URL] [--count N] [--wait-file P]\n");
		return 100;
	}
	if (url && engine_new(url, &e) < 0) {
		fprintf(stderr, "peerprobe: bad engine url\n");
		return 100;
	}
	l = listen_at(argv[optind]);
	if (l < 0) {
		perror("peerprobe: listen");
		return 111;
	}
	for (long i = 0; count < 0 || i < count; i++) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("peerprobe: accept");
			return 111;
		}
		probe(c, e, gate);
		close(c);
		if (gate)
			unlink(gate);
	}
	engine_free(e);
	close(l);
	return 0;
}
