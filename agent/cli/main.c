/* SPDX-License-Identifier: MIT */
/* `keyhole` entry point: pulls the global options (--store, --key-file,
 * --admin-socket, --passphrase-fd) out of argv wherever they appear, finds
 * the verb among the CLI_COMMAND() entries in the keyhole_cli linker
 * section, and runs it. main owns the verb table: util.c (errors, usage,
 * input) is called from here and from the verbs, and never calls back. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "keystore.h"
#include "util.h"

extern const struct cli_command __start_keyhole_cli[];
extern const struct cli_command __stop_keyhole_cli[];

static const struct cli_command *cli_find(const char *name)
{
	for (const struct cli_command *c = __start_keyhole_cli; c < __stop_keyhole_cli; c++)
		if (c->name && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int print_help(const char *verb)
{
	const struct cli_command *c = cli_find(verb);

	if (!c)
		return CLI_EUSAGE;
	printf("keyhole %s - %s\n\n%s", c->name, c->summary, c->usage);
	return CLI_OK;
}

static int global_help(FILE *f)
{
	fputs("usage: keyhole [--version] [--store PATH] [--key-file PATH] [--admin-socket PATH]\n"
	      "               [--passphrase-fd N] [--audit-log PATH] [--etcd-cacert FILE]\n"
	      "               [--etcd-cert FILE] [--etcd-key FILE] [--etcd-insecure]\n"
	      "               [--writer-key FILE] [--writers FILE] [--pubkey-fingerprint FP]\n"
	      "               VERB [ARGS...]\n\n"
	      "Global options may also follow the verb. Environment: KEYHOLE_STORE,\n"
	      "KEYHOLE_KEY_FILE, KEYHOLE_ADMIN_SOCKET, KEYHOLE_AUDIT_LOG, KEYHOLE_CONFIG,\n"
	      "KEYHOLE_ETCD_*, KEYHOLE_WRITER_KEY, KEYHOLE_WRITERS, KEYHOLE_PUBKEY_FINGERPRINT,\n"
	      "KEYHOLE_KNOWN_STORES. put/rotate/rm/reload append to the agent's audit log\n"
	      "(audit-log in /etc/keyhole/keyholed.conf). The store may be\n"
	      "etcd://host:port,.../NAME (docs/fleet.md). `keyhole VERB --help` for details.\n\n"
	      "verbs:\n",
	      f);
	for (const struct cli_command *c = __start_keyhole_cli; c < __stop_keyhole_cli; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	return f == stdout ? CLI_OK : CLI_EUSAGE;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

/* If argv[*i] is global option `opt`, store its value and advance. 1 =
 * matched, 0 = not this option, -1 = missing value. */
static int take_opt(int argc, char **argv, int *i, const char *opt, const char **val)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

/* etcd TLS options for an etcd:// store, and the integrity files (writer
 * key, trust file, rollback state, pinned store key): both are read from
 * the environment, so a flag just sets its variable. */
static int take_etcd_opt(int argc, char **argv, int *i)
{
	static const char *const map[][2] = {
		{ "--etcd-cacert", "KEYHOLE_ETCD_CACERT" },
		{ "--etcd-cert", "KEYHOLE_ETCD_CERT" },
		{ "--etcd-key", "KEYHOLE_ETCD_KEY" },
		{ "--writer-key", "KEYHOLE_WRITER_KEY" },
		{ "--writers", "KEYHOLE_WRITERS" },
		{ "--pubkey-fingerprint", "KEYHOLE_PUBKEY_FINGERPRINT" },
	};
	const char *v = NULL;

	if (strcmp(argv[*i], "--etcd-insecure") == 0)
		return setenv("KEYHOLE_ETCD_INSECURE", "1", 1) == 0 ? 1 : -1;
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		int m = take_opt(argc, argv, i, map[k][0], &v);
		if (m != 0)
			return m < 0 ? m : (v && setenv(map[k][1], v, 1) == 0 ? 1 : -1);
	}
	return 0;
}

static int parse_globals(struct cli_ctx *ctx, int *argc, char **argv)
{
	const char *pfd = NULL, *kf = NULL, *st = NULL;
	int out = 1, i;

	for (i = 1; i < *argc; i++) {
		int m = 0;
		if (strcmp(argv[i], "--") == 0)
			break;
		m = take_opt(*argc, argv, &i, "--store", &st);
		m = m ? m : take_opt(*argc, argv, &i, "--key-file", &kf);
		m = m ? m : take_opt(*argc, argv, &i, "--admin-socket", &ctx->admin_socket);
		m = m ? m : take_opt(*argc, argv, &i, "--passphrase-fd", &pfd);
		m = m ? m : take_opt(*argc, argv, &i, "--audit-log", &ctx->audit_log);
		m = m ? m : take_etcd_opt(*argc, argv, &i);
		if (m < 0)
			return cli_fail(-EINVAL, "%s needs a value", argv[i]);
		if (m == 0)
			argv[out++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	*argc = out;
	if (st) {
		ctx->store = st;
		ctx->store_set = true;
	}
	if (kf) {
		ctx->key_file = kf;
		ctx->key_file_set = true;
	}
	if (pfd) {
		uint64_t v;
		if (!cli_parse_u64(pfd, 0, 1u << 20, &v))
			return cli_fail(-EINVAL, "--passphrase-fd %s", pfd);
		ctx->passphrase_fd = (int)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {
		.store = env_or("KEYHOLE_STORE", KH_DEFAULT_STORE),
		.key_file = env_or("KEYHOLE_KEY_FILE", KH_DEFAULT_KEY_FILE),
		.admin_socket = env_or("KEYHOLE_ADMIN_SOCKET", KH_DEFAULT_ADMIN_SOCKET),
		.audit_log = getenv("KEYHOLE_AUDIT_LOG"),
		.config = env_or("KEYHOLE_CONFIG", KH_DEFAULT_CONFIG),
		.passphrase_fd = -1,
		.key_file_set = getenv("KEYHOLE_KEY_FILE") && *getenv("KEYHOLE_KEY_FILE"),
		.store_set = getenv("KEYHOLE_STORE") && *getenv("KEYHOLE_STORE"),
	};
	const struct cli_command *cmd;
	int r = parse_globals(&ctx, &argc, argv);

	if (r)
		return r;
	if (sodium_init() < 0)
		return cli_fail(-ENOMEM, "libsodium init");
	if (argc < 2)
		return global_help(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return argc > 2 && cli_find(argv[2]) ? print_help(argv[2]) : global_help(stdout);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("keyhole %s\n", KH_VERSION);
		return CLI_OK;
	}
	cmd = cli_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "keyhole: unknown verb '%s' (see keyhole --help)\n", argv[1]);
		return CLI_EUSAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1))
		return print_help(cmd->name);
	cli_usage_set(cmd->name, cmd->usage);
	return cmd->run(&ctx, argc - 1, argv + 1);
}
