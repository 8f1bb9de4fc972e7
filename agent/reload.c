/* SPDX-License-Identifier: MIT */
/* See reload.h. The file is read with a cap and parsed by policy.c (pure);
 * the new policy replaces the old one only when it validates and differs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "log.h"
#include "reload.h"
#include "template_load.h"

/* Whoever can write the policy grants secrets: like sshd's StrictModes, a
 * policy that group or others can write is refused (-EPERM, *mode set). */
static int read_capped(const char *path, char **ret, size_t *ret_len, mode_t *mode)
{
	cleanup_free char *buf = NULL;
	FILE *f = fopen(path, "re");
	struct stat st;
	size_t len;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		*mode = st.st_mode & 07777;
		fclose(f);
		return -EPERM;
	}
	buf = malloc(POLICY_MAX_BYTES + 1);
	len = buf ? fread(buf, 1, POLICY_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	*ret = steal_pointer(&buf);
	*ret_len = len;
	return 0;
}

int reload_parse(const struct agent *a, struct policy **ret, char *err, size_t errlen)
{
	cleanup_free char *buf = NULL;
	struct policy *p = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r = read_capped(a->o.policy, &buf, &len, &mode);

	if (r == -EPERM && mode) {
		snprintf(err, errlen, "%s: writable by group or others (mode %04o): chmod go-w it",
			 a->o.policy, (unsigned)mode);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", a->o.policy, strerror(-r));
		return r;
	}
	r = policy_parse(buf, len, &p, err, errlen);
	if (r < 0)
		return r;
	r = tmpl_policy_load(p, a->o.policy, err, errlen); /* templates next to it */
	if (r < 0) {
		policy_free(p);
		return r;
	}
	/* bind mounts of the agent's own files count as host mounts */
	r = policy_protect_paths(p, a->o.engine, a->paths.store, a->paths.key_file,
				 a->paths.admin_socket);
	if (r < 0) {
		snprintf(err, errlen, "policy: the agent's own paths: %s", strerror(-r));
		policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int reload_policy(struct agent *a, char *err, size_t errlen)
{
	struct policy *p = NULL;
	int r = reload_parse(a, &p, err, errlen);

	if (r < 0)
		return r;
	if (a->pol && strcmp(p->digest, a->pol->digest) == 0) {
		log_info("policy %s unchanged (sha256 %.16s): nothing reloaded", a->o.policy,
			 p->digest);
		policy_free(p);
		return 0;
	}
	policy_free(a->pol);
	a->pol = p;
	log_info("policy loaded: %zu rules, sha256 %.16s", p->n_rules, p->digest);
	if (a->cs.n_watchers)
		a->resync = "policy reload";
	return 0;
}
