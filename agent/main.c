/* SPDX-License-Identifier: MIT */
/* keyholed: options (keyholed.conf, then flags), setup as root, READY=1 to
 * systemd, then the event loop. Refuses to start on a store
 * or key file others can read or write, or on a policy that does not
 * validate (one line each, exit 1). Hardening first: not dumpable, no core
 * files, umask 077, every fd O_CLOEXEC, secrets only in sodium_malloc. */
#include <errno.h>
#include <fcntl.h>
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
#include "cleanup.h"
#include "config.h"
#include "defaults.h"
#include "io.h"
#include "log.h"
#include "listen.h"
#include "loop.h"
#include "notify.h"
#include "reload.h"

static const char usage[] =
	"usage: keyholed [--config FILE] [--store PATH] [--key-file PATH | --passphrase-fd N]\n"
	"                [--policy FILE] [--socket PATH] [--admin-socket PATH]\n"
	"                [--audit-log PATH|-] [--engine unix:///run/docker.sock]\n"
	"                [--max-conns N] [--rate-limit N] [--burst N] [--max-conns-per-identity N]\n"
	"                [--max-watchers-per-identity N] [--write-timeout S] [--max-output-mb N]\n"
	"                [--writers FILE] [--state FILE] [--foreground] [--debug]\n"
	"                [--etcd-cacert FILE] [--etcd-cert FILE] [--etcd-key FILE] [--etcd-insecure]\n"
	"                [--kubelet https://127.0.0.1:10250] [--kubelet-cacert FILE]\n"
	"                [--kubelet-cert FILE --kubelet-key FILE] [--kubelet-token-file FILE]\n"
	"                [--kubelet-insecure] [--kubelet-timeout S] [--version]\n"
	"Defaults: --config " KH_DEFAULT_CONFIG " (read when present; one `key value`\n"
	"per line, keys are the option names; flags override it), --store " KH_DEFAULT_STORE ",\n"
	"--key-file " KH_DEFAULT_KEY_FILE ", --policy " KH_DEFAULT_POLICY ",\n"
	"--socket " KH_DEFAULT_SOCKET " --admin-socket " KH_DEFAULT_ADMIN_SOCKET ",\n"
	"--max-conns 4096, --rate-limit 100 (new connections/s per identity, 0 = off),\n"
	"--burst 200, --max-conns-per-identity max-conns/8, --max-watchers-per-identity\n"
	"max-conns/16 (root on the host is not capped, and max-conns/16 is kept for it),\n"
	"--write-timeout 10 (a reply not read in time is dropped and wiped),\n"
	"--max-output-mb 32 (replies queued for all clients; past it fetches get busy),\n"
	"--kubelet-timeout 3 (one GET /pods; pods waiting on it fail closed after it),\n"
	"--writers /etc/keyhole/writers (KEYHOLE_WRITERS) --state /var/lib/keyhole/agent.state\n"
	"(KEYHOLE_STATE): only records signed by a pinned writer and never older than\n"
	"a version already served are served. keyholed runs in the foreground and\n"
	"tells systemd when it is ready (Type=notify).\n";

/* --kubelet*: pod metadata from the node's kubelet (docs/kubernetes.md). */
enum {
	OPT_KUBELET = 0x100,
	OPT_KUBELET_CACERT,
	OPT_KUBELET_CERT,
	OPT_KUBELET_KEY,
	OPT_KUBELET_TOKEN,
	OPT_KUBELET_INSECURE,
	OPT_KUBELET_TIMEOUT
};

static const struct option opts[] = {
	{ "store", 1, NULL, 's' },
	{ "key-file", 1, NULL, 'k' },
	{ "passphrase-fd", 1, NULL, 'P' },
	{ "policy", 1, NULL, 'p' },
	{ "socket", 1, NULL, 'S' },
	{ "admin-socket", 1, NULL, 'A' },
	{ "audit-log", 1, NULL, 'a' },
	{ "engine", 1, NULL, 'e' },
	{ "max-conns", 1, NULL, 'm' },
	{ "rate-limit", 1, NULL, 'r' },
	{ "burst", 1, NULL, 'b' },
	{ "foreground", 0, NULL, 'f' },
	{ "debug", 0, NULL, 'd' },
	{ "help", 0, NULL, 'h' },
	{ "etcd-cacert", 1, NULL, 'C' },
	{ "etcd-cert", 1, NULL, 'E' },
	{ "etcd-key", 1, NULL, 'K' },
	{ "etcd-insecure", 0, NULL, 'I' },
	{ "config", 1, NULL, 'c' },
	{ "version", 0, NULL, 'V' },
	{ "max-conns-per-identity", 1, NULL, 'x' },
	{ "max-watchers-per-identity", 1, NULL, 'w' },
	{ "write-timeout", 1, NULL, 'Y' },
	{ "max-output-mb", 1, NULL, 'O' },
	{ "writers", 1, NULL, 'W' },
	{ "state", 1, NULL, 'T' },
	{ "kubelet", 1, NULL, OPT_KUBELET },
	{ "kubelet-cacert", 1, NULL, OPT_KUBELET_CACERT },
	{ "kubelet-cert", 1, NULL, OPT_KUBELET_CERT },
	{ "kubelet-key", 1, NULL, OPT_KUBELET_KEY },
	{ "kubelet-token-file", 1, NULL, OPT_KUBELET_TOKEN },
	{ "kubelet-insecure", 0, NULL, OPT_KUBELET_INSECURE },
	{ "kubelet-timeout", 1, NULL, OPT_KUBELET_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

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

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* keystore's report of a record it refused (signature, corrupt, rollback):
 * one log and one audit line each; the record is not served, or the newer
 * value already held keeps being served. */
static void on_refusal(const struct ks_refusal *f, void *arg)
{
	struct agent *a = arg;
	char why[256];

	if (!f->name) {
		log_warnx("rollback state %s not saved: %s", a->o.state, ks_strerror(f->err));
		return;
	}
	if (f->err == -ETIME)
		snprintf(why, sizeof(why),
			 "store offers version %llu, older than version %llu "
			 "already served: rollback refused, %s",
			 (unsigned long long)f->version, (unsigned long long)f->mark,
			 f->kept ? "keeping the newer value" : "not served");
	else
		snprintf(why, sizeof(why), "record refused, not served: %s", ks_strerror(f->err));
	log_warnx("store: %s: %s", f->name, why);
	conn_audit(a->audit, NULL, NULL, f->name, f->version, AUDIT_STORE, why);
}

/* Pod metadata options (docs/kubernetes.md). */
static bool parse_kubelet_opt(int ch, const char *arg, struct kubelet_opts *k)
{
	switch (ch) {
	case OPT_KUBELET: k->url = arg; return true;
	case OPT_KUBELET_CACERT: k->cacert = arg; return true;
	case OPT_KUBELET_CERT: k->cert = arg; return true;
	case OPT_KUBELET_KEY: k->key = arg; return true;
	case OPT_KUBELET_TOKEN: k->token_file = arg; return true;
	case OPT_KUBELET_INSECURE: k->insecure = true; return true;
	case OPT_KUBELET_TIMEOUT:
		k->timeout_ms = num_arg("--kubelet-timeout", arg, KUBELET_MAX_TIMEOUT_S) * 1000u;
		if (!k->timeout_ms)
			fatalx(2, "--kubelet-timeout: expected seconds 1..%u, got '%s'",
			       KUBELET_MAX_TIMEOUT_S, arg);
		return true;
	default: return false;
	}
}

/* Apply one option; also used for the config file's entries. */
static void apply_opt(int ch, const char *arg, struct agent_opts *o, bool *key_set)
{
	if (parse_kubelet_opt(ch, arg, &o->kube))
		return;
	switch (ch) {
	case 's': o->store = arg; break;
	case 'k':
		o->key_file = arg;
		*key_set = true;
		break;
	case 'P': o->passphrase_fd = (int)num_arg("--passphrase-fd", arg, 1u << 20); break;
	case 'p': o->policy = arg; break;
	case 'S': o->socket = arg; break;
	case 'A': o->admin_socket = arg; break;
	case 'a': o->audit = arg; break;
	case 'e': o->engine = arg; break;
	case 'm': o->max_conns = num_arg("--max-conns", arg, 1u << 20); break;
	case 'r': o->rate = num_arg("--rate-limit", arg, 1u << 20); break;
	case 'b': o->burst = num_arg("--burst", arg, 1u << 20); break;
	case 'x': o->max_conns_ident = num_arg("--max-conns-per-identity", arg, 1u << 20); break;
	case 'w': o->max_watch_ident = num_arg("--max-watchers-per-identity", arg, 1u << 20); break;
	case 'Y': o->write_timeout_s = num_arg("--write-timeout", arg, 3600); break;
	case 'O': o->max_output_mb = num_arg("--max-output-mb", arg, 1u << 16); break;
	case 'W': o->writers = arg; break;
	case 'T': o->state = arg; break;
	case 'f':
	case 'c': break;
	case 'd': o->debug = true; break;
	/* etcd TLS for an etcd:// store: the backend reads these (docs/fleet.md) */
	case 'C': setenv("KEYHOLE_ETCD_CACERT", arg, 1); break;
	case 'E': setenv("KEYHOLE_ETCD_CERT", arg, 1); break;
	case 'K': setenv("KEYHOLE_ETCD_KEY", arg, 1); break;
	case 'I': setenv("KEYHOLE_ETCD_INSECURE", "1", 1); break;
	case 'h': fputs(usage, stdout); exit(0);
	case 'V': printf("keyholed %s\n", KH_VERSION); exit(0);
	default: fputs(usage, stderr); exit(2);
	}
}

/* Read a small root-owned file whole; 0, -EFBIG past cap, or -errno. */
static int read_file(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (!(buf = malloc(cap + 1)))
		return -ENOMEM;
	while ((n = io_read_some(fd, buf + have, cap + 1 - have)) > 0)
		if ((have += (size_t)n) > cap)
			return -EFBIG;
	if (n < 0)
		return (int)n;
	buf[have] = '\0';
	*ret = steal_pointer(&buf);
	*ret_len = have;
	return 0;
}

/* --config FILE (or the default file when it exists), before getopt. */
static const char *config_path(int argc, char **argv, bool *explicit)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--config=", 9) == 0) {
			*explicit = true;
			return argv[i] + 9;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			*explicit = true;
			return argv[i + 1];
		}
	}
	*explicit = false;
	return KH_DEFAULT_CONFIG;
}

static bool flag_value(const struct config_entry *e, const char *path)
{
	if (!*e->value || !strcmp(e->value, "yes") || !strcmp(e->value, "true") ||
	    !strcmp(e->value, "1"))
		return true;
	if (!strcmp(e->value, "no") || !strcmp(e->value, "false") || !strcmp(e->value, "0"))
		return false;
	fatalx(2, "%s line %u: %s takes yes or no, not '%s'", path, e->line, e->key, e->value);
}

/* Each entry of the config file, as if given as --key=value first. The
 * config is kept for the life of the process (opts point into it). */
static void read_config(int argc, char **argv, struct agent_opts *o, bool *key_set)
{
	static struct config *cf;
	bool explicit;
	const char *path = config_path(argc, argv, &explicit);
	char *buf = NULL, err[256];
	size_t len = 0;
	int r = read_file(path, CONFIG_MAX_BYTES, &buf, &len);

	if (r == -ENOENT && !explicit)
		return;
	if (r < 0)
		fatalx(2, "config %s: %s", path, r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
	r = config_parse(buf, len, &cf, err, sizeof(err));
	free(buf);
	if (r < 0)
		fatalx(2, "config %s: %s", path, r == -ENOMEM ? "out of memory" : err);
	for (size_t i = 0; i < cf->n; i++) {
		const struct config_entry *e = &cf->v[i];
		const struct option *op = opts;
		while (op->name && strcmp(op->name, e->key) != 0)
			op++;
		if (!op->name || op->val == 'c' || op->val == 'h' || op->val == 'V')
			fatalx(2,
			       "%s line %u: unknown key '%s' (keys are keyholed's option names, "
			       "see keyholed --help)",
			       path, e->line, e->key);
		if (op->has_arg && !*e->value)
			fatalx(2, "%s line %u: %s needs a value", path, e->line, e->key);
		if (op->has_arg || flag_value(e, path))
			apply_opt(op->val, e->value, o, key_set);
	}
}

static void parse_args(int argc, char **argv, struct agent_opts *o)
{
	bool key_set = false, key_from_cli = false;

	int ch;

	*o = (struct agent_opts){ .store = KH_DEFAULT_STORE,
				  .key_file = KH_DEFAULT_KEY_FILE,
				  .policy = KH_DEFAULT_POLICY,
				  .socket = KH_DEFAULT_SOCKET,
				  .admin_socket = KH_DEFAULT_ADMIN_SOCKET,
				  .passphrase_fd = -1,
				  .max_conns = AGENT_DEFAULT_MAX_CONNS,
				  .rate = AGENT_DEFAULT_RATE,
				  .burst = AGENT_DEFAULT_BURST,
				  .write_timeout_s = AGENT_DEFAULT_WRITE_TIMEOUT_S,
				  .max_output_mb = AGENT_DEFAULT_MAX_OUTPUT_MB,
				  .writers = env_or("KEYHOLE_WRITERS", "/etc/keyhole/writers"),
				  .state =
					  env_or("KEYHOLE_STATE", "/var/lib/keyhole/agent.state") };
	for (int i = 1; i < argc; i++) /* --help / --version need no config */
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "--version"))
			apply_opt(argv[i][2] == 'h' ? 'h' : 'V', NULL, o, &key_set);
	read_config(argc, argv, o, &key_set);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		key_from_cli |= ch == 'k';
		apply_opt(ch, optarg, o, &key_set);
		if (!o->kube.url && (o->kube.cacert || o->kube.cert || o->kube.key ||
				     o->kube.token_file || o->kube.insecure || o->kube.timeout_ms))
			fatalx(2, "--kubelet-* options need --kubelet URL");
	}
	if (optind != argc)
		fatalx(2, "unexpected argument '%s' (see keyholed --help)", argv[optind]);
	if (o->passphrase_fd >= 0 && key_from_cli)
		fatalx(2, "give --key-file or --passphrase-fd, not both");
	if (o->passphrase_fd >= 0)
		o->key_file = NULL; /* the default (or config) key file gives way */
	if (o->max_conns == 0)
		fatalx(2, "--max-conns must be at least 1");
	/* Defaults scale with the global cap: one identity gets at most an
	 * eighth of it, and a sixteenth of it is kept for root. */
	if (!o->max_conns_ident)
		o->max_conns_ident = o->max_conns / 8 ? o->max_conns / 8 : 1;
	if (!o->max_watch_ident)
		o->max_watch_ident = o->max_conns / 16 ? o->max_conns / 16 : 1;
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
		fatalx(1, "%s %s is owned by uid %u, not by the agent's uid %u; refusing", what,
		       path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		fatalx(1,
		       "%s %s has mode %04o: group or others can read or write it; chmod 0600 "
		       "and rotate what may have leaked",
		       what, path, (unsigned)(st.st_mode & 07777));
}

/* The agent's own files as absolute paths, for the policy's host-mount
 * check (a container must not bind-mount them); NULL when absent. */
static char *abs_or_null(const char *path)
{
	return path && !strstr(path, "://") ? realpath(path, NULL) : NULL;
}

static char *abs_socket(const char *path)
{
	char *dir, *slash, *out = NULL;
	cleanup_free char *copy = strdup(path);

	if (!copy || !(slash = strrchr(copy, '/')))
		return NULL;
	*slash = '\0';
	dir = realpath(*copy ? copy : "/", NULL);
	if (dir && asprintf(&out, "%s/%s", strcmp(dir, "/") ? dir : "", slash + 1) < 0)
		out = NULL;
	free(dir);
	return out;
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
	if ((r = kubelet_new(&a->o.kube, &a->kube, err, sizeof(err))) < 0 ||
	    (r = kubelet_new(&a->o.kube, &a->kube_admin, err, sizeof(err))) < 0)
		fatalx(r == -EINVAL ? 2 : 1, "%s", r == -EINVAL ? err : strerror(-r));
}

static void setup(struct agent *a)
{
	struct ks_open_opts ko = { a->o.key_file, a->o.passphrase_fd, false };
	struct ks_sign_opts so = { .trust_file = a->o.writers,
				   .state_file = a->o.state,
				   .on_refusal = on_refusal,
				   .refusal_arg = a };
	char err[512];
	int r;

	if (!strstr(a->o.store, "://")) /* etcd:// stores are not local files */
		check_private("store", a->o.store);
	if (a->o.key_file)
		check_private("key file", a->o.key_file);
	a->paths.store = abs_or_null(a->o.store);
	a->paths.key_file = abs_or_null(a->o.key_file);
	a->paths.admin_socket = abs_socket(a->o.admin_socket);
	if (reload_policy(a, err, sizeof(err)) < 0)
		fatalx(1, "policy %s does not validate: %s", a->o.policy, err);
	if (a->o.audit && (r = audit_open(a->o.audit, &a->audit)) < 0)
		fatal_errno(1, -r, "audit log %s", a->o.audit);
	if ((r = ks_open_signed(a->o.store, &ko, &so, &a->ks)) < 0)
		fatalx(1, "store %s: %s (trust file %s)", a->o.store, ks_strerror(r), a->o.writers);
	if (ks_format_version(a->ks) < 2)
		log_warnx("store %s is format 1: records are unsigned until `keyhole migrate "
			  "--sign`",
			  a->o.store);
	if (a->o.engine && ((r = engine_new(a->o.engine, &a->eng)) < 0 ||
			    (r = engine_new(a->o.engine, &a->eng_admin)) < 0))
		fatal_errno(1, -r, "engine %s", a->o.engine);
	if (a->o.kube.url)
		setup_kubelet(a);
	/* the lookup threads start after the cgroup namespace was joined */
	if ((r = identify_init(&a->idf, a->eng, a->kube)) < 0)
		fatal_errno(1, -r, "lookup threads");
	if (!(a->rl = rl_new(a->o.rate, a->o.burst, a->o.max_conns)))
		fatalx(1, "out of memory");
	if ((a->lfd = listen_unix(a->o.socket, 0666, 4096)) < 0)
		fatal_errno(1, -a->lfd, "agent socket %s", a->o.socket);
	if ((a->afd = listen_unix(a->o.admin_socket, 0600, 64)) < 0)
		fatal_errno(1, -a->afd, "admin socket %s", a->o.admin_socket);
	a->rel = (struct release){ .ks = a->ks, .audit = a->audit, .cs = &a->cs };
	a->cs.write_timeout_ms =
		(uint64_t)(a->o.write_timeout_s ? a->o.write_timeout_s : 1) * 1000u;
	a->cs.out_max = (size_t)a->o.max_output_mb << 20;
	if ((r = loop_init(a)) < 0)
		fatal_errno(1, -r, "event loop");
}

/* Settings that start fine but cannot work as meant: say so once. */
static void warn_uid(void)
{
	if (geteuid() != 0)
		log_warnx("running as uid %u, not root: processes of other users cannot be "
			  "attested (/proc/PID) and the engine socket may be unreadable; run "
			  "keyholed as root",
			  (unsigned)geteuid());
}

static void warn_setup(const struct agent *a)
{
	if (a->eng)
		return;
	for (size_t i = 0; i < a->pol->n_rules; i++) {
		const struct policy_rule *r = &a->pol->rules[i];
		if (r->name_glob || r->image_glob || r->image_id || r->n_labels ||
		    r->req_unprivileged || r->req_nonroot)
			log_warnx(
				"rule '%s' uses engine selectors (name, image, labels or require) "
				"but no engine is configured: it matches no container; set --engine "
				"unix:///run/docker.sock (or `engine` in %s)",
				r->name, KH_DEFAULT_CONFIG);
	}
}

/* Tell systemd (Type=notify) that both sockets are bound. */
static void notify_ready(const struct agent *a)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	char st[160];
	int r;

	if (!ns || !*ns)
		return;
	snprintf(st, sizeof(st), "READY=1\nSTATUS=serving %zu policy rule%s\nMAINPID=%d",
		 a->pol->n_rules, a->pol->n_rules == 1 ? "" : "s", (int)getpid());
	if ((r = notify_send(ns, st)) < 0)
		log_errno(-r, "sd_notify %s", ns);
	unsetenv("NOTIFY_SOCKET"); /* not for anything we might start */
}

int main(int argc, char **argv)
{
	static struct agent a = { .lfd = -1, .afd = -1, .sigfd = -1, .ksfd = -1, .cs.epfd = -1 };

	log_init("keyholed", false);
	parse_args(argc, argv, &a.o);
	log_init("keyholed", a.o.debug);
	harden();
	warn_uid(); /* before setup, which may refuse to start as this uid */
	a.started = time(NULL);
	setup(&a);
	log_info("keyholed %s listening on %s (admin %s), %zu policy rule%s, engine %s, kubelet %s",
		 KH_VERSION, a.o.socket, a.o.admin_socket, a.pol->n_rules,
		 a.pol->n_rules == 1 ? "" : "s", a.o.engine ? a.o.engine : "none",
		 a.kube ? kubelet_url(a.kube) : "none");
	warn_setup(&a);
	notify_ready(&a);
	loop_run(&a);
	unlink(a.o.socket);
	unlink(a.o.admin_socket);
	audit_close(a.audit);
	identify_fini(&a.idf); /* stops the lookup threads before their clients go */
	engine_free(a.eng);
	engine_free(a.eng_admin);
	free(a.paths.store);
	free(a.paths.key_file);
	free(a.paths.admin_socket);
	kubelet_free(a.kube);
	kubelet_free(a.kube_admin);
	rl_free(a.rl);
	policy_free(a.pol);
	ks_close(a.ks);
	log_info("stopped");
	return 0;
}
