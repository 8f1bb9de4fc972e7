/* SPDX-License-Identifier: MIT */
/* cgroup_parse: a table of /proc/PID/cgroup contents, one row per layout
 * (v1 and v2, systemd and cgroupfs drivers), conmon and delegated-cgroup
 * spoofs, disagreeing lines and malformed input; plus the fixture files. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cgroup.h"

#define ID "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define ID2 "0000000000000000000000000000000000000000000000000000000000000abc"
#define UPPER "3F4E5D6C7B8A99887766554433221100FFEEDDCCBBAA00112233445566778899"
#define POD "pod6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c"
#define PODS "pod6b1e9c3a_0f4d_4c2e_9a8b_1d2e3f4a5b6c"
#define UID "6b1e9c3a-0f4d-4c2e-9a8b-1d2e3f4a5b6c"

struct row {
	const char *name;
	const char *in;
	int err;	    /* expected return */
	enum kh_runtime rt; /* when err == 0 */
	const char *id;	    /* when err == 0 */
	const char *path;   /* when non-NULL: expected ret.path */
};

static const struct row rows[] = {
	/* host */
	{ "host v2 root", "0::/\n", 0, RT_HOST, "", "/" },
	{ "host v2 session", "0::/user.slice/user-0.slice/session-3.scope\n", 0, RT_HOST, "",
	  "/user.slice/user-0.slice/session-3.scope" },
	{ "host hybrid", "9:name=systemd:/system.slice/ssh.service\n8:pids:/\n4:memory:/x\n0::/\n",
	  0, RT_HOST, "", "/" },
	{ "host v1 only", "3:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice\n", 0, RT_HOST, "",
	  "/user.slice" },
	/* docker */
	{ "docker cgroupfs v2", "0::/docker/" ID "\n", 0, RT_DOCKER, ID, "/docker/" ID },
	{ "docker cgroupfs v1+v2",
	  "12:pids:/docker/" ID "\n11:memory:/docker/" ID "\n1:name=systemd:/docker/" ID
	  "\n0::/docker/" ID "\n",
	  0, RT_DOCKER, ID, "/docker/" ID },
	{ "docker cgroupfs v1, unified root",
	  "12:pids:/docker/" ID "\n3:cpu,cpuacct:/docker/" ID "\n2:misc:/\n0::/\n", 0, RT_DOCKER,
	  ID, "/docker/" ID },
	{ "docker systemd v2", "0::/system.slice/docker-" ID ".scope\n", 0, RT_DOCKER, ID, NULL },
	{ "docker systemd v1",
	  "5:memory:/system.slice/docker-" ID ".scope\n1:name=systemd:/system.slice/docker-" ID
	  ".scope\n",
	  0, RT_DOCKER, ID, NULL },
	{ "docker sub-cgroup counts", "0::/docker/" ID "/init.scope\n", 0, RT_DOCKER, ID,
	  "/docker/" ID "/init.scope" },
	{ "docker-in-docker: outer wins", "0::/docker/" ID "/docker/" ID2 "\n", 0, RT_DOCKER, ID,
	  NULL },
	{ "docker systemd sub-cgroup", "0::/system.slice/docker-" ID ".scope/init.scope\n", 0,
	  RT_DOCKER, ID, NULL },
	/* podman */
	{ "podman cgroupfs v1+v2",
	  "7:pids:/libpod_parent/libpod-" ID "\n1:name=systemd:/libpod_parent/libpod-" ID
	  "\n0::/libpod_parent/libpod-" ID "\n",
	  0, RT_PODMAN, ID, NULL },
	{ "podman systemd v2", "0::/machine.slice/libpod-" ID ".scope/container\n", 0, RT_PODMAN,
	  ID, "/machine.slice/libpod-" ID ".scope/container" },
	{ "podman conmon systemd is host", "0::/machine.slice/libpod-conmon-" ID ".scope\n", 0,
	  RT_HOST, "", NULL },
	{ "podman conmon cgroupfs is host", "0::/libpod_parent/libpod-conmon-" ID "\n", 0, RT_HOST,
	  "", NULL },
	{ "podman rootless (delegated) is host",
	  "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope\n", 0,
	  RT_HOST, "", NULL },
	/* containerd / CRI */
	{ "cri-containerd systemd burstable",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS
	  ".slice/cri-containerd-" ID ".scope\n",
	  0, RT_CONTAINERD, ID, NULL },
	{ "cri-containerd systemd guaranteed",
	  "0::/kubepods.slice/kubepods-" PODS ".slice/cri-containerd-" ID ".scope\n", 0,
	  RT_CONTAINERD, ID, NULL },
	{ "cri-containerd systemd besteffort v1",
	  "4:memory:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" PODS
	  ".slice/cri-containerd-" ID ".scope\n",
	  0, RT_CONTAINERD, ID, NULL },
	{ "kubepods cgroupfs guaranteed", "0::/kubepods/" POD "/" ID "\n", 0, RT_CONTAINERD, ID,
	  NULL },
	{ "kubepods cgroupfs burstable", "0::/kubepods/burstable/" POD "/" ID "\n", 0,
	  RT_CONTAINERD, ID, NULL },
	{ "kubepods cgroupfs besteffort v1",
	  "6:pids:/kubepods/besteffort/" POD "/" ID "\n1:name=systemd:/kubepods/besteffort/" POD
	  "/" ID "\n",
	  0, RT_CONTAINERD, ID, NULL },
	{ "kubepods pod cgroup itself is host", "0::/kubepods/burstable/" POD "\n", 0, RT_HOST, "",
	  NULL },
	{ "kubepods wrong qos slice",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-" PODS
	  ".slice/cri-containerd-" ID ".scope\n",
	  0, RT_HOST, "", NULL },
	/* CRI-O */
	{ "crio systemd",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS ".slice/crio-" ID
	  ".scope\n",
	  0, RT_CRIO, ID, NULL },
	{ "crio conmon is host",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS
	  ".slice/crio-conmon-" ID ".scope\n",
	  0, RT_HOST, "", NULL },
	/* spoofs: names that hold an id but are not anchored layouts */
	{ "delegated docker scope",
	  "0::/user.slice/user-1000.slice/user@1000.service/docker-" ID ".scope\n", 0, RT_HOST, "",
	  NULL },
	{ "delegated docker dir",
	  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker/" ID "\n", 0, RT_HOST,
	  "", NULL },
	{ "bare id at root", "0::/" ID "\n", 0, RT_HOST, "", NULL },
	{ "docker with suffix", "0::/docker/" ID "x\n", 0, RT_HOST, "", NULL },
	{ "docker short id",
	  "0::/docker/"
	  "3f4e5d6c7b8a\n",
	  0, RT_HOST, "", NULL },
	{ "docker uppercase id", "0::/docker/" UPPER "\n", 0, RT_HOST, "", NULL },
	{ "docker scope outside system.slice", "0::/machine.slice/docker-" ID ".scope\n", 0,
	  RT_HOST, "", NULL },
	{ "libpod scope outside machine.slice", "0::/system.slice/libpod-" ID ".scope\n", 0,
	  RT_HOST, "", NULL },
	{ "nested docker under a host path", "0::/x/docker/" ID "\n", 0, RT_HOST, "", NULL },
	/* disagreement */
	{ "two ids", "5:pids:/docker/" ID "\n0::/docker/" ID2 "\n", -EBADMSG, RT_HOST, "", NULL },
	{ "two runtimes", "5:pids:/docker/" ID "\n0::/libpod_parent/libpod-" ID "\n", -EBADMSG,
	  RT_HOST, "", NULL },
	{ "container + other host path",
	  "5:pids:/docker/" ID "\n1:name=systemd:/user.slice\n0::/\n", -EBADMSG, RT_HOST, "",
	  NULL },
	{ "container v1 + spoof v2",
	  "5:pids:/docker/" ID "\n0::/user.slice/user@1000.service/docker-" ID2 ".scope\n",
	  -EBADMSG, RT_HOST, "", NULL },
	/* malformed */
	{ "empty", "", -EBADMSG, RT_HOST, "", NULL },
	{ "no newline", "0::/docker/" ID, -EBADMSG, RT_HOST, "", NULL },
	{ "blank line", "0::/\n\n", -EBADMSG, RT_HOST, "", NULL },
	{ "one colon", "0:/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "no hierarchy", ":pids:/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "hierarchy not a number", "x:pids:/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "v1 with no controllers", "3::/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "v2 with controllers", "0:pids:/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "relative path", "0::docker/" ID "\n", -EBADMSG, RT_HOST, "", NULL },
	{ "dotdot", "0::/docker/" ID "/../x\n", -EBADMSG, RT_HOST, "", NULL },
	{ "double slash", "0::/docker//" ID "\n", -EBADMSG, RT_HOST, "", NULL },
	{ "trailing slash", "0::/docker/" ID "/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "two v2 lines", "0::/\n0::/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "duplicate v1 hierarchy", "3:pids:/\n3:pids:/\n", -EBADMSG, RT_HOST, "", NULL },
	{ "deleted cgroup", "0::/docker/" ID " (deleted)\n", -EBADMSG, RT_HOST, "", NULL },
	{ "bad controller chars", "3:pi ds:/\n", -EBADMSG, RT_HOST, "", NULL },
};

START_TEST(test_table)
{
	const struct row *r = &rows[_i];
	struct cg_identity id;
	int rc;

	memset(&id, 0x5a, sizeof(id));
	rc = cgroup_parse(r->in, strlen(r->in), &id);
	ck_assert_msg(rc == r->err, "%s: rc %d, want %d", r->name, rc, r->err);
	if (r->err == 0) {
		ck_assert_msg(id.runtime == r->rt, "%s: runtime %s, want %s", r->name,
			      runtime_name(id.runtime), runtime_name(r->rt));
		ck_assert_msg(strcmp(id.id, r->id) == 0, "%s: id '%s'", r->name, id.id);
		if (r->path)
			ck_assert_msg(strcmp(id.path, r->path) == 0, "%s: path '%s'", r->name,
				      id.path);
	} else {
		/* ret untouched on failure */
		ck_assert_int_eq(((unsigned char *)&id)[0], 0x5a);
	}
}
END_TEST

/* The pod uid of kubepods layouts, normalised to the API's spelling. */
static const struct {
	const char *name, *in, *pod;
} pod_rows[] = {
	{ "systemd burstable: '_' back to '-'",
	  "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-" PODS ".slice/cri-containerd-" ID ".scope\n",
	  UID },
	{ "systemd guaranteed",
	  "0::/kubepods.slice/kubepods-" PODS ".slice/cri-containerd-" ID ".scope\n", UID },
	{ "systemd besteffort crio",
	  "0::/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-" PODS ".slice/crio-" ID ".scope\n",
	  UID },
	{ "cgroupfs burstable", "0::/kubepods/burstable/" POD "/" ID "\n", UID },
	{ "cgroupfs guaranteed, v1 + v2",
	  "4:memory:/kubepods/" POD "/" ID "\n0::/kubepods/" POD "/" ID "\n", UID },
	{ "static pod (hash uid)",
	  "0::/kubepods/besteffort/pod0123456789abcdef0123456789abcdef/" ID "\n",
	  "0123456789abcdef0123456789abcdef" },
	{ "docker has none", "0::/docker/" ID "\n", "" },
	{ "podman has none", "0::/machine.slice/libpod-" ID ".scope\n", "" },
	{ "pod cgroup itself (host) has none", "0::/kubepods/burstable/" POD "\n", "" },
	{ "crio conmon (host) has none",
	  "0::/kubepods.slice/kubepods-" PODS ".slice/crio-conmon-" ID ".scope\n", "" },
	{ "host has none", "0::/user.slice\n", "" },
};

START_TEST(test_pod_uid)
{
	struct cg_identity id;
	const char *in = pod_rows[_i].in;

	ck_assert_int_eq(cgroup_parse(in, strlen(in), &id), 0);
	ck_assert_msg(strcmp(id.pod_uid, pod_rows[_i].pod) == 0, "%s: pod uid '%s', want '%s'",
		      pod_rows[_i].name, id.pod_uid, pod_rows[_i].pod);
}
END_TEST

/* Lines that name one container but two pods disagree: refused. */
START_TEST(test_pod_uid_disagree)
{
	static const char in[] = "4:memory:/kubepods/" POD "/" ID "\n"
				 "0::/kubepods/pod0d4f7e2a-93b1-4a8e-b6c5-2f1e0a9d8c7b/" ID "\n";
	struct cg_identity id;

	ck_assert_int_eq(cgroup_parse(in, sizeof(in) - 1, &id), -EBADMSG);
}
END_TEST

START_TEST(test_embedded_nul)
{
	static const char in[] = "0::/docker/" ID "\0\n";
	struct cg_identity id;

	ck_assert_int_eq(cgroup_parse(in, sizeof(in) - 1, &id), -EBADMSG);
}
END_TEST

START_TEST(test_caps)
{
	static char big[CG_MAX_FILE + 2];
	static char longp[CG_MAX_PATH + 16];
	struct cg_identity id;
	size_t n;

	memset(big, '\n', sizeof(big));
	ck_assert_int_eq(cgroup_parse(big, CG_MAX_FILE + 1, &id), -E2BIG);
	/* a path one over the cap is refused, one at the cap is accepted */
	n = (size_t)snprintf(longp, sizeof(longp), "0::/");
	memset(longp + n, 'a', CG_MAX_PATH - 1);
	longp[n + CG_MAX_PATH - 1] = '\n';
	ck_assert_int_eq(cgroup_parse(longp, n + CG_MAX_PATH, &id), 0);
	ck_assert_uint_eq(strlen(id.path), CG_MAX_PATH);
	memset(longp + n, 'a', CG_MAX_PATH);
	longp[n + CG_MAX_PATH] = '\n';
	ck_assert_int_eq(cgroup_parse(longp, n + CG_MAX_PATH + 1, &id), -EBADMSG);
}
END_TEST

START_TEST(test_deep_path)
{
	/* deeper than the segments we keep: still parsed, still the container */
	const char *in = "0::/docker/" ID "/a/b/c/d/e/f/g/h/i/j/k\n";
	struct cg_identity id;

	ck_assert_int_eq(cgroup_parse(in, strlen(in), &id), 0);
	ck_assert_int_eq(id.runtime, RT_DOCKER);
	ck_assert_str_eq(id.id, ID);
}
END_TEST

START_TEST(test_runtime_names)
{
	enum kh_runtime rt;
	static const enum kh_runtime all[] = { RT_HOST, RT_DOCKER, RT_PODMAN, RT_CONTAINERD,
					       RT_CRIO };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_int_eq(runtime_from_name(runtime_name(all[i]), &rt), 0);
		ck_assert_int_eq(rt, all[i]);
	}
	ck_assert_str_eq(runtime_name(RT_CRIO), "crio");
	ck_assert_int_eq(runtime_from_name("Docker", &rt), -EINVAL);
	ck_assert_int_eq(runtime_from_name("", &rt), -EINVAL);
}
END_TEST

/* Fixture files captured from real processes (tests/fixtures/cgroup_*.txt);
 * the first line of each "# expect RUNTIME ID|-" names the verdict. */
static void check_fixture(const char *file)
{
	char path[512], buf[CG_MAX_FILE + 1], rt[32], idw[80];
	const char *dir = getenv("KH_ROOT");
	struct cg_identity id;
	enum kh_runtime want;
	FILE *f;
	size_t n;
	char *body;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", dir ? dir : ".", file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_int_eq(sscanf(buf, "# expect %31s %79s", rt, idw), 2);
	ck_assert_int_eq(runtime_from_name(rt, &want), 0);
	body = strchr(buf, '\n') + 1;
	ck_assert_int_eq(cgroup_parse(body, n - (size_t)(body - buf), &id), 0);
	ck_assert_str_eq(runtime_name(id.runtime), runtime_name(want));
	ck_assert_str_eq(id.id, strcmp(idw, "-") == 0 ? "" : idw);
}

START_TEST(test_fixtures)
{
	check_fixture("cgroup_podman_cgroupfs.txt");
	check_fixture("cgroup_podman_conmon.txt");
	check_fixture("cgroup_docker_cgroupfs.txt");
	check_fixture("cgroup_host_hybrid.txt");
}
END_TEST

static Suite *cgroup_suite(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_loop_test(tc, test_pod_uid, 0, (int)(sizeof(pod_rows) / sizeof(pod_rows[0])));
	tcase_add_test(tc, test_pod_uid_disagree);
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_deep_path);
	tcase_add_test(tc, test_runtime_names);
	tcase_add_test(tc, test_fixtures);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cgroup_suite)
