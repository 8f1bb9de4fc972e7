/* SPDX-License-Identifier: MIT */
/* keyholed: setup as root, then the event loop. Refuses to start on a store
 * or key file others can read or write, or on a policy that does not
 * validate (one line each, exit 1). Hardening first: not dumpable, no core
 * files, umask 077, every fd O_CLOEXEC, secrets only in sodium_malloc. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <malloc.h>

#include "agent.h"
#include "log.h"

static const char usage[] =
	"usage: keyholed --store PATH (--key-file PATH | --passphrase-fd N) --policy FILE\n"
	"                [--socket PATH] [--admin-socket PATH] [--audit-log PATH|-]\n"
	"                [--engine unix:///run/docker.sock] [--max-conns N]\n"
	"                [--rate-limit N] [--burst N] [--foreground] [--debug]\n"
	"                [--etcd-cacert FILE] [--etcd-cert FILE] [--etcd-key FILE] [--etcd-insecure]\n"
	"                [--kubelet https://127.0.0.1:10250] [--kubelet-cacert FILE]\n"
	"                [--kubelet-cert FILE --kubelet-key FILE] [--kubelet-token-file FILE]\n"
	"                [--kubelet-insecure]\n"
	"Defaults: --socket /run/keyhole/agent.sock --admin-socket /run/keyhole-admin/admin.sock\n"
	"--max-conns 4096, --rate-limit 100 (new connections/s per identity, 0 = off),\n"
	"--burst 200. keyholed always runs in the foreground (systemd Type=simple).\n";

static unsigned num_arg(const char *opt, const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v > max)
		fatalx(2, "%s: expected a number 0..%u, got '%s'", opt, max, s);
	return (unsigned)v;
}

/* --kubelet*: pod metadata from the node's kubelet (docs/kubernetes.md). */
enum { OPT_KUBELET = 0x100, OPT_KUBELET_CACERT, OPT_KUBELET_CERT, OPT_KUBELET_KEY,
       OPT_KUBELET_TOKEN, OPT_KUBELET_INSECURE };
#define KUBELET_OPTIONS                                                              \
	{ "kubelet", 1, NULL, OPT_KUBELET }, { "kubelet-cacert", 1, NULL, OPT_KUBELET_CACERT }, \
	{ "kubelet-cert", 1, NULL, OPT_KUBELET_CERT },                                  \
	{ "kubelet-key", 1, NULL, OPT_KUBELET_KEY },                                    \
	{ "kubelet-token-file", 1, NULL, OPT_KUBELET_TOKEN },                           \
	{ "kubelet-insecure", 0, NULL, OPT_KUBELET_INSECURE }

static bool parse_kubelet_opt(int ch, struct kubelet_opts *k)
{
	switch (ch) {
	case OPT_KUBELET: k->url = optarg; return true;
	case OPT_KUBELET_CACERT: k->cacert = optarg; return true;
	case OPT_KUBELET_CERT: k->cert = optarg; return true;
	case OPT_KUBELET_KEY: k->key = optarg; return true;
	case OPT_KUBELET_TOKEN: k->token_file = optarg; return true;
	case OPT_KUBELET_INSECURE: k->insecure = true; return true;
	default: return false;
	}
}

static void parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option opts[] = {
		{ "store", 1, NULL, 's' },	  { "key-file", 1, NULL, 'k' },
		{ "passphrase-fd", 1, NULL, 'P' }, { "policy", 1, NULL, 'p' },
		{ "socket", 1, NULL, 'S' },	  { "admin-socket", 1, NULL, 'A' },
		{ "audit-log", 1, NULL, 'a' },	  { "engine", 1, NULL, 'e' },
		{ "max-conns", 1, NULL, 'm' },	  { "rate-limit", 1, NULL, 'r' },
		{ "burst", 1, NULL, 'b' },	  { "foreground", 0, NULL, 'f' },
		{ "debug", 0, NULL, 'd' },	  { "help", 0, NULL, 'h' },
		{ "etcd-cacert", 1, NULL, 'C' },  { "etcd-cert", 1, NULL, 'E' },
		{ "etcd-key", 1, NULL, 'K' },	  { "etcd-insecure", 0, NULL, 'I' },
		KUBELET_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct agent_opts){ .socket = "/run/keyhole/agent.sock",
				  .admin_socket = "/run/keyhole-admin/admin.sock", .passphrase_fd = -1,
				  .max_conns = AGENT_DEFAULT_MAX_CONNS, .rate = AGENT_DEFAULT_RATE,
				  .burst = AGENT_DEFAULT_BURST };
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (parse_kubelet_opt(ch, &o->kube))
			continue;
		switch (ch) {
		case 's': o->store = optarg; break;
		case 'k': o->key_file = optarg; break;
		case 'P': o->passphrase_fd = (int)num_arg("--passphrase-fd", optarg, 1u << 20); break;
		case 'p': o->policy = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'A': o->admin_socket = optarg; break;
		case 'a': o->audit = optarg; break;
		case 'e': o->engine = optarg; break;
		case 'm': o->max_conns = num_arg("--max-conns", optarg, 1u << 20); break;
		case 'r': o->rate = num_arg("--rate-limit", optarg, 1u << 20); break;
		case 'b': o->burst = num_arg("--burst", optarg, 1u << 20); break;
		case 'f': break;
		case 'd': o->debug = true; break;
		/* etcd TLS for an etcd:// store: the backend reads these (docs/fleet.md) */
		case 'C': setenv("KEYHOLE_ETCD_CACERT", optarg, 1); break;
		case 'E': setenv("KEYHOLE_ETCD_CERT", optarg, 1); break;
		case 'K': setenv("KEYHOLE_ETCD_KEY", optarg, 1); break;
		case 'I': setenv("KEYHOLE_ETCD_INSECURE", "1", 1); break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (!o->kube.url && (o->kube.cacert || o->kube.cert || o->kube.key || o->kube.token_file ||
			     o->kube.insecure))
		fatalx(2, "--kubelet-* options need --kubelet URL");
	if (optind != argc || !o->store || !o->policy || !(o->key_file || o->passphrase_fd >= 0) ||
	    (o->key_file && o->passphrase_fd >= 0) || o->max_conns == 0) {
		fputs(usage, stderr);
		exit(2);
	}
}

static void harden(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &rl) < 0)
		fatal(1, "hardening (PR_SET_DUMPABLE / RLIMIT_CORE)");
	umask(077);
	/* A fixed mmap threshold: glibc would otherwise raise it after the
	 * first large temporary (a 10k-record list) is freed, and keep every
	 * later one on the heap, resident for good. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (sodium_init() < 0)
		fatalx(1, "libsodium initialisation failed");
}

/* Owner must be us; group and others get nothing. */
static void check_private(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fatal(1, "%s %s", what, path);
	if (st.st_uid != geteuid())
		fatalx(1, "%s %s is owned by uid %u, not by the agent's uid %u; refusing", what, path,
		       (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		fatalx(1, "%s %s has mode %04o: group or others can read or write it; chmod 0600 "
		       "and rotate what may have leaked", what, path, (unsigned)(st.st_mode & 07777));
}

/* Pod metadata: read host cgroup paths (join the host cgroup namespace
 * from a DaemonSet pod), then the kubelet client. */
static void setup_kubelet(struct agent *a)
{
	char err[512];
	bool joined = false;
	int r;

	if (kubelet_host_cgroupns(&joined, err, sizeof(err)) < 0)
		fatalx(1, "%s", err);
	if (joined)
		log_info("joined the host cgroup namespace (pid 1's)");
	if ((r = kubelet_new(&a->o.kube, &a->kube, err, sizeof(err))) < 0)
		fatalx(r == -EINVAL ? 2 : 1, "%s", r == -EINVAL ? err : strerror(-r));
}

static void setup(struct agent *a)
{
	struct ks_open_opts ko = { a->o.key_file, a->o.passphrase_fd, false };
	char err[512];
	int r;

	if (!strstr(a->o.store, "://")) /* etcd:// stores are not local files */
		check_private("store", a->o.store);
	if (a->o.key_file)
		check_private("key file", a->o.key_file);
	if (agent_reload_policy(a, err, sizeof(err)) < 0)
		fatalx(1, "policy %s does not validate: %s", a->o.policy, err);
	if ((r = ks_open(a->o.store, &ko, &a->ks)) < 0)
		fatalx(1, "store %s: %s", a->o.store, ks_strerror(r));
	if (a->o.audit && (r = audit_open(a->o.audit, &a->audit)) < 0)
		fatal_errno(1, -r, "audit log %s", a->o.audit);
	if (a->o.engine && (r = engine_new(a->o.engine, &a->eng)) < 0)
		fatal_errno(1, -r, "engine %s", a->o.engine);
	a->engine_ok = a->eng != NULL;
	if (a->o.kube.url)
		setup_kubelet(a);
	if (!(a->rl = rl_new(a->o.rate, a->o.burst)))
		fatalx(1, "out of memory");
	if ((a->lfd = listen_unix(a->o.socket, 0666, 4096)) < 0)
		fatal_errno(1, -a->lfd, "agent socket %s", a->o.socket);
	if ((a->afd = listen_unix(a->o.admin_socket, 0600, 64)) < 0)
		fatal_errno(1, -a->afd, "admin socket %s", a->o.admin_socket);
	if ((r = loop_init(a)) < 0)
		fatal_errno(1, -r, "event loop");
}

int main(int argc, char **argv)
{
	static struct agent a = { .lfd = -1, .afd = -1, .sigfd = -1, .epfd = -1, .ksfd = -1 };

	parse_args(argc, argv, &a.o);
	log_init("keyholed", a.o.debug);
	harden();
	a.started = time(NULL);
	setup(&a);
	log_info("listening on %s (admin %s), %zu policy rules, engine %s, kubelet %s", a.o.socket,
		 a.o.admin_socket, a.pol->n_rules, a.o.engine ? a.o.engine : "none",
		 a.kube ? kubelet_url(a.kube) : "none");
	loop_run(&a);
	unlink(a.o.socket);
	unlink(a.o.admin_socket);
	audit_close(a.audit);
	engine_free(a.eng);
	kubelet_free(a.kube);
	rl_free(a.rl);
	policy_free(a.pol);
	ks_close(a.ks);
	log_info("stopped");
	return 0;
}
