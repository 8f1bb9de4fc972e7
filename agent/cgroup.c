/* SPDX-License-Identifier: MIT */
/* /proc/PID/cgroup -> runtime + container id. Pure: no syscalls, no
 * allocation, so the fuzzer drives it directly. The bytes are the kernel's,
 * but the cgroup names in them may be chosen by whoever owns a delegated
 * subtree, so only whole layouts anchored at the hierarchy root match
 * (docs/attestation.md has the table and the line-agreement rule). */
#include "cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "text.h"

#define CG_MAX_SEGS 8 /* the deepest layout we match has 4 segments */

struct seg {
	const char *p;
	size_t n;
};

/* One classified line. */
struct cg_line {
	unsigned long hier;
	bool v2;
	const char *path;
	size_t path_len;
	enum kh_runtime rt; /* RT_HOST when no layout matched */
	char id[CG_ID_LEN + 1];
	char pod[CG_POD_UID_LEN + 1]; /* kubepods layouts only */
};

static bool seg_is(const struct seg *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->n == n && memcmp(s->p, lit, n) == 0;
}

static bool has_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(p, lit, l) == 0;
}

static bool is_id(const char *p, size_t n)
{
	return n == CG_ID_LEN && text_is_hex(p, n);
}

/* s == PRE<64 hex>SUF exactly; copies the id out. */
static bool seg_wrapped_id(const struct seg *s, const char *pre, const char *suf, char *id)
{
	size_t lp = strlen(pre), ls = strlen(suf);

	if (s->n != lp + CG_ID_LEN + ls || memcmp(s->p, pre, lp) != 0 ||
	    memcmp(s->p + lp + CG_ID_LEN, suf, ls) != 0 || !is_id(s->p + lp, CG_ID_LEN))
		return false;
	memcpy(id, s->p + lp, CG_ID_LEN);
	id[CG_ID_LEN] = '\0';
	return true;
}

/* A pod uid as kubelet writes it: UUID, '-' or (systemd driver) '_'. */
static bool is_pod_uid(const char *p, size_t n)
{
	if (n == 0 || n > CG_POD_UID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || p[i] == '-' ||
		      p[i] == '_'))
			return false;
	return true;
}

/* Copy a checked pod uid out as the API spells it: the systemd driver
 * escapes '-' in slice names as '_', so turn it back. */
static void copy_pod_uid(const char *p, size_t n, char *pod)
{
	for (size_t i = 0; i < n; i++)
		pod[i] = p[i] == '_' ? '-' : p[i];
	pod[n] = '\0';
}

/* "kubepods-<qos>-pod<uid>.slice", or "kubepods-pod<uid>.slice" when qos is "";
 * the uid goes to pod. */
static bool seg_pod_slice(const struct seg *s, const char *qos, char *pod)
{
	const char *p = s->p, *end = s->p + s->n;
	size_t lq = strlen(qos);

	if (!has_prefix(p, s->n, "kubepods-"))
		return false;
	p += 9;
	if (lq) {
		if ((size_t)(end - p) < lq + 1 || memcmp(p, qos, lq) != 0 || p[lq] != '-')
			return false;
		p += lq + 1;
	}
	if (!has_prefix(p, (size_t)(end - p), "pod") || end - p < 3 + 6 ||
	    memcmp(end - 6, ".slice", 6) != 0 || !is_pod_uid(p + 3, (size_t)(end - 6 - (p + 3))))
		return false;
	copy_pod_uid(p + 3, (size_t)(end - 6 - (p + 3)), pod);
	return true;
}

/* "kubepods-<qos>.slice" */
static bool seg_qos_slice(const struct seg *s, const char *qos)
{
	size_t lq = strlen(qos);

	return s->n == 9 + lq + 6 && has_prefix(s->p, s->n, "kubepods-") &&
	       memcmp(s->p + 9, qos, lq) == 0 && memcmp(s->p + 9 + lq, ".slice", 6) == 0;
}

/* kubelet systemd driver: /kubepods.slice/[kubepods-QOS.slice/]POD/SCOPE. */
static bool match_kube_systemd(const struct seg *sg, size_t n, enum kh_runtime *rt, char *id,
			       char *pod)
{
	static const char *const qos[] = { "burstable", "besteffort" };
	size_t i = 1;

	if (n < 3 || !seg_is(&sg[0], "kubepods.slice"))
		return false;
	if (seg_pod_slice(&sg[1], "", pod)) {
		i = 2;
	} else {
		for (size_t q = 0; q < ARRAY_SIZE(qos) && i == 1; q++)
			if (n >= 4 && seg_qos_slice(&sg[1], qos[q]) &&
			    seg_pod_slice(&sg[2], qos[q], pod))
				i = 3;
		if (i == 1)
			return false;
	}
	if (seg_wrapped_id(&sg[i], "cri-containerd-", ".scope", id))
		*rt = RT_CONTAINERD;
	else if (seg_wrapped_id(&sg[i], "crio-", ".scope", id))
		*rt = RT_CRIO; /* "crio-conmon-<id>.scope" never fits PRE<64 hex> */
	else
		return false;
	return true;
}

/* kubelet cgroupfs driver: /kubepods/[burstable|besteffort/]pod<uid>/<id>. */
static bool match_kube_cgroupfs(const struct seg *sg, size_t n, enum kh_runtime *rt, char *id,
				char *pod)
{
	size_t i = 1;

	if (n < 3 || !seg_is(&sg[0], "kubepods"))
		return false;
	if (seg_is(&sg[1], "burstable") || seg_is(&sg[1], "besteffort"))
		i = 2;
	if (n < i + 2 || !has_prefix(sg[i].p, sg[i].n, "pod") ||
	    !is_pod_uid(sg[i].p + 3, sg[i].n - 3) || !is_id(sg[i + 1].p, sg[i + 1].n))
		return false;
	memcpy(id, sg[i + 1].p, CG_ID_LEN);
	id[CG_ID_LEN] = '\0';
	copy_pod_uid(sg[i].p + 3, sg[i].n - 3, pod);
	*rt = RT_CONTAINERD;
	return true;
}

/* The layouts, anchored at segment 0. Anything below the matched container
 * cgroup (init.scope, a nested engine's cgroups) belongs to that container:
 * only host root or the container itself can create cgroups there. */
static bool match_layout(const struct seg *sg, size_t n, enum kh_runtime *rt, char *id, char *pod)
{
	if (n >= 2 && seg_is(&sg[0], "docker") && is_id(sg[1].p, sg[1].n)) {
		memcpy(id, sg[1].p, CG_ID_LEN);
		id[CG_ID_LEN] = '\0';
		*rt = RT_DOCKER;
		return true;
	}
	if (n >= 2 && seg_is(&sg[0], "system.slice") &&
	    seg_wrapped_id(&sg[1], "docker-", ".scope", id)) {
		*rt = RT_DOCKER;
		return true;
	}
	if (n >= 2 && seg_is(&sg[0], "libpod_parent") &&
	    seg_wrapped_id(&sg[1], "libpod-", "", id)) {
		*rt = RT_PODMAN;
		return true;
	}
	if (n >= 2 && seg_is(&sg[0], "machine.slice") &&
	    seg_wrapped_id(&sg[1], "libpod-", ".scope", id)) {
		*rt = RT_PODMAN;
		return true;
	}
	return match_kube_systemd(sg, n, rt, id, pod) || match_kube_cgroupfs(sg, n, rt, id, pod);
}

/* Split "/a/b/c" into at most CG_MAX_SEGS segments (the rest is ignored: no
 * layout is that deep). Rejects "//", "." and ".." which the kernel never
 * prints. "/" gives zero segments. */
static int split_path(const char *p, size_t len, struct seg *sg, size_t *ret_n)
{
	size_t n = 0, i = 1;

	if (len == 0 || p[0] != '/')
		return -EBADMSG;
	if (len == 1) {
		*ret_n = 0;
		return 0;
	}
	while (i <= len) {
		const char *e = memchr(p + i, '/', len - i);
		size_t l = e ? (size_t)(e - (p + i)) : len - i;

		if (l == 0 || (l == 1 && p[i] == '.') || (l == 2 && p[i] == '.' && p[i + 1] == '.'))
			return -EBADMSG;
		if (n < CG_MAX_SEGS)
			sg[n++] = (struct seg){ p + i, l };
		i += l + 1;
	}
	*ret_n = n;
	return 0;
}

static bool valid_controllers(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == ',' || c == '=' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* "N:ctrls:/path" (N=0, ctrls empty: the v2 line). */
static int parse_line(const char *l, size_t len, struct cg_line *ret)
{
	const char *c1 = memchr(l, ':', len), *c2;
	struct seg sg[CG_MAX_SEGS] = { 0 };
	size_t nseg, i;
	unsigned long hier = 0;
	int r;

	if (!c1 || c1 == l || c1 - l > 6)
		return -EBADMSG;
	for (i = 0; l + i < c1; i++) {
		if (l[i] < '0' || l[i] > '9')
			return -EBADMSG;
		hier = hier * 10 + (unsigned long)(l[i] - '0');
	}
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - l));
	if (!c2 || !valid_controllers(c1 + 1, (size_t)(c2 - c1 - 1)))
		return -EBADMSG;
	ret->v2 = c2 == c1 + 1;
	if (ret->v2 != (hier == 0))
		return -EBADMSG;
	ret->hier = hier;
	ret->path = c2 + 1;
	ret->path_len = len - (size_t)(c2 + 1 - l);
	if (ret->path_len > CG_MAX_PATH)
		return -EBADMSG;
	/* A dead v2 cgroup is printed with this suffix: never guess through it. */
	if (ret->path_len >= 10 && memcmp(ret->path + ret->path_len - 10, " (deleted)", 10) == 0)
		return -EBADMSG;
	r = split_path(ret->path, ret->path_len, sg, &nseg);
	if (r < 0)
		return r;
	ret->rt = RT_HOST;
	ret->id[0] = '\0';
	ret->pod[0] = '\0';
	if (!match_layout(sg, nseg, &ret->rt, ret->id, ret->pod))
		ret->pod[0] = '\0'; /* a pod slice above something else */
	return 0;
}

static void set_path(struct cg_identity *id, const struct cg_line *l)
{
	memcpy(id->path, l->path, l->path_len);
	id->path[l->path_len] = '\0';
}

/* Fold one line into the running verdict. Rule: every container line must
 * name the same runtime, id and pod uid; beside them only "/" (a hierarchy
 * the runtime did not place the process in) is tolerated. */
static int fold_line(const struct cg_line *l, struct cg_identity *acc, bool *have_ctr,
		     bool *have_other, bool *have_v2, bool *have_path)
{
	if (l->rt != RT_HOST) {
		if (*have_ctr && (acc->runtime != l->rt || strcmp(acc->id, l->id) != 0 ||
				  strcmp(acc->pod_uid, l->pod) != 0))
			return -EBADMSG;
		if (!*have_ctr || l->v2)
			set_path(acc, l);
		acc->runtime = l->rt;
		memcpy(acc->id, l->id, sizeof(acc->id));
		memcpy(acc->pod_uid, l->pod, sizeof(acc->pod_uid));
		*have_ctr = true;
	} else {
		/* Host verdict reports the v2 path, else the first line's. */
		if (l->path_len > 1)
			*have_other = true;
		if (!*have_ctr && (!*have_path || l->v2)) {
			set_path(acc, l);
			*have_path = true;
		}
	}
	if (l->v2) {
		if (*have_v2)
			return -EBADMSG;
		*have_v2 = true;
	}
	return 0;
}

int cgroup_parse(const char *buf, size_t len, struct cg_identity *ret)
{
	struct cg_identity acc = { .runtime = RT_HOST };
	bool have_ctr = false, have_other = false, have_v2 = false, have_path = false;
	unsigned long long seen = 0; /* v1 hierarchy ids 1..63 seen */
	size_t off = 0;

	if (len > CG_MAX_FILE)
		return -E2BIG;
	if (len == 0 || memchr(buf, '\0', len) || buf[len - 1] != '\n')
		return -EBADMSG;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		struct cg_line l;
		int r;

		r = parse_line(buf + off, (size_t)(nl - (buf + off)), &l);
		if (r < 0)
			return r;
		if (!l.v2) {
			if (l.hier >= 64 || (seen & (1ull << l.hier)))
				return -EBADMSG;
			seen |= 1ull << l.hier;
		}
		r = fold_line(&l, &acc, &have_ctr, &have_other, &have_v2, &have_path);
		if (r < 0)
			return r;
		off = (size_t)(nl - buf) + 1;
	}
	if (have_ctr && have_other)
		return -EBADMSG;
	*ret = acc;
	return 0;
}

const char *runtime_name(enum kh_runtime rt)
{
	switch (rt) {
	case RT_HOST: return "host";
	case RT_DOCKER: return "docker";
	case RT_PODMAN: return "podman";
	case RT_CONTAINERD: return "containerd";
	case RT_CRIO: return "crio";
	}
	return "unknown";
}

int runtime_from_name(const char *s, enum kh_runtime *ret)
{
	static const enum kh_runtime all[] = { RT_HOST, RT_DOCKER, RT_PODMAN, RT_CONTAINERD,
					       RT_CRIO };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (strcmp(s, runtime_name(all[i])) == 0) {
			*ret = all[i];
			return 0;
		}
	}
	return -EINVAL;
}
