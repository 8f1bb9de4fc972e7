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
#include "notify.h"

static const char usage[] =
	"usage: keyholed [--config FILE] [--store PATH] [--key-file PATH | --passphrase-fd N]\n"
	"                [--policy FILE] [--socket PATH] [--admin-socket PATH]\n"
	"                [--audit-log PATH|-] [--engine unix:///run/docker.sock]\n"
	"                [--max-conns N] [--rate-limit N] [--burst N] [--foreground] [--debug]\n"
	"                [--etcd-cacert FILE] [--etcd-cert FILE] [--etcd-key FILE] [--etcd-insecure]\n"
	"                [--version]\n"
	"Defaults: --config " KH_DEFAULT_CONFIG " (read when present; one `key value`\n"
	"per line, keys are the option names; flags override it), --store " KH_DEFAULT_STORE ",\n"
	"--key-file " KH_DEFAULT_KEY_FILE ", --policy " KH_DEFAULT_POLICY ",\n"
	"--socket " KH_DEFAULT_SOCKET " --admin-socket " KH_DEFAULT_ADMIN_SOCKET ",\n"
	"--max-conns 4096, --rate-limit 100 (new connections/s per identity, 0 = off),\n"
	"--burst 200. keyholed runs in the foreground and tells systemd when it is\n"
	"ready (Type=notify).\n";

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
	{ "config", 1, NULL, 'c' },	  { "version", 0, NULL, 'V' },
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

/* Apply one option; also used for the config file's entries. */
static void apply_opt(int ch, const char *arg, struct agent_opts *o, bool *key_set)
{
	switch (ch) {
	case 's': o->store = arg; break;
	case 'k': o->key_file = arg; *key_set = true; break;
	case 'P': o->passphrase_fd = (int)num_arg("--passphrase-fd", arg, 1u << 20); break;
	case 'p': o->policy = arg; break;
	case 'S': o->socket = arg; break;
	case 'A': o->admin_socket = arg; break;
	case 'a': o->audit = arg; break;
	case 'e': o->engine = arg; break;
	case 'm': o->max_conns = num_arg("--max-conns", arg, 1u << 20); break;
	case 'r': o->rate = num_arg("--rate-limit", arg, 1u << 20); break;
	case 'b': o->burst = num_arg("--burst", arg, 1u << 20); break;
	case 'f': case 'c': break;
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
		if (strncmp(argv[i], "--config=", 9) == 0)
			return *explicit = true, argv[i] + 9;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return *explicit = true, argv[i + 1];
	}
	*explicit = false;
	return KH_DEFAULT_CONFIG;
}

static bool flag_value(const struct config_entry *e, const char *path)
{
	if (!*e->value || !strcmp(e->value, "yes") || !strcmp(e->value, "true") || !strcmp(e->value, "1"))
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
			fatalx(2, "%s line %u: unknown key '%s' (keys are keyholed's option names, "
			       "see keyholed --help)", path, e->line, e->key);
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

	*o = (struct agent_opts){ .store = KH_DEFAULT_STORE, .key_file = KH_DEFAULT_KEY_FILE,
				  .policy = KH_DEFAULT_POLICY, .socket = KH_DEFAULT_SOCKET,
				  .admin_socket = KH_DEFAULT_ADMIN_SOCKET, .passphrase_fd = -1,
				  .max_conns = AGENT_DEFAULT_MAX_CONNS, .rate = AGENT_DEFAULT_RATE,
				  .burst = AGENT_DEFAULT_BURST };
	for (int i = 1; i < argc; i++) /* --help / --version need no config */
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "--version"))
			apply_opt(argv[i][2] == 'h' ? 'h' : 'V', NULL, o, &key_set);
	read_config(argc, argv, o, &key_set);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		key_from_cli |= ch == 'k';
		apply_opt(ch, optarg, o, &key_set);
	}
	if (optind != argc)
		fatalx(2, "unexpected argument '%s' (see keyholed --help)", argv[optind]);
	if (o->passphrase_fd >= 0 && key_from_cli)
		fatalx(2, "give --key-file or --passphrase-fd, not both");
	if (o->passphrase_fd >= 0)
		o->key_file = NULL; /* the default (or config) key file gives way */
	if (o->max_conns == 0)
		fatalx(2, "--max-conns must be at least 1");
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
	if (!(a->rl = rl_new(a->o.rate, a->o.burst)))
		fatalx(1, "out of memory");
	if ((a->lfd = listen_unix(a->o.socket, 0666, 4096)) < 0)
		fatal_errno(1, -a->lfd, "agent socket %s", a->o.socket);
	if ((a->afd = listen_unix(a->o.admin_socket, 0600, 64)) < 0)
		fatal_errno(1, -a->afd, "admin socket %s", a->o.admin_socket);
	if ((r = loop_init(a)) < 0)
		fatal_errno(1, -r, "event loop");
}

/* Settings that start fine but cannot work as meant: say so once. */
static void warn_uid(void)
{
	if (geteuid() != 0)
		log_warnx("running as uid %u, not root: processes of other users cannot be "
			  "attested (/proc/PID) and the engine socket may be unreadable; run "
			  "keyholed as root", (unsigned)geteuid());
}

static void warn_setup(const struct agent *a)
{
	if (a->eng)
		return;
	for (size_t i = 0; i < a->pol->n_rules; i++) {
		const struct policy_rule *r = &a->pol->rules[i];
		if (r->name_glob || r->image_glob || r->image_id || r->n_labels ||
		    r->req_unprivileged || r->req_nonroot)
			log_warnx("rule '%s' uses engine selectors (name, image, labels or require) "
				  "but no engine is configured: it matches no container; set --engine "
				  "unix:///run/docker.sock (or `engine` in %s)", r->name, KH_DEFAULT_CONFIG);
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
	static struct agent a = { .lfd = -1, .afd = -1, .sigfd = -1, .epfd = -1, .ksfd = -1 };

	log_init("keyholed", false);
	parse_args(argc, argv, &a.o);
	log_init("keyholed", a.o.debug);
	harden();
	warn_uid(); /* before setup, which may refuse to start as this uid */
	a.started = time(NULL);
	setup(&a);
	log_info("keyholed %s listening on %s (admin %s), %zu policy rule%s, engine %s",
		 KH_VERSION, a.o.socket, a.o.admin_socket, a.pol->n_rules,
		 a.pol->n_rules == 1 ? "" : "s", a.o.engine ? a.o.engine : "none");
	warn_setup(&a);
	notify_ready(&a);
	loop_run(&a);
	unlink(a.o.socket);
	unlink(a.o.admin_socket);
	audit_close(a.audit);
	engine_free(a.eng);
	rl_free(a.rl);
	policy_free(a.pol);
	ks_close(a.ks);
	log_info("stopped");
	return 0;
}
