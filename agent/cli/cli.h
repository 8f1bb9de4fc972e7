/* SPDX-License-Identifier: MIT */
/* The `keyhole` CLI: one file per verb (crun src/ verb files). A verb registers
 * itself with CLI_COMMAND(); main.c finds every registered verb through the
 * linker section, so adding a verb adds a file and touches nothing else.
 * Verbs return an exit code (enum cli_exit) and print one-line errors. */
#ifndef KH_CLI_H
#define KH_CLI_H

#include <stdbool.h>

#include "defaults.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_EFAIL = 1,	   /* generic failure / findings (scan) */
	CLI_EUSAGE = 2,	   /* bad arguments */
	CLI_ENOTFOUND = 3, /* no such store, secret or version */
	CLI_EEXIST = 4,	   /* already exists */
	CLI_EKEY = 5,	   /* wrong key or passphrase, key file mode */
	CLI_ECORRUPT = 6,  /* corrupt or unauthenticated store data */
	CLI_EIO = 7,	   /* I/O, disk full, permissions */
	CLI_ECONFLICT = 8, /* concurrent writer won; retry */
	CLI_EAGENT = 9,	   /* agent not reachable / admin call failed */
	CLI_EPIN = 10,	   /* store public key differs from the pinned one */
};

/* Global options, accepted before or after the verb. */
struct cli_ctx {
	const char *store;	  /* --store, KEYHOLE_STORE, /var/lib/keyhole/store.json */
	const char *key_file;	  /* --key-file, KEYHOLE_KEY_FILE, /var/lib/keyhole/agent.key */
	const char *admin_socket; /* --admin-socket, KEYHOLE_ADMIN_SOCKET,
				     /run/keyhole-admin/admin.sock */
	const char *audit_log;	  /* --audit-log, KEYHOLE_AUDIT_LOG, else keyholed.conf's */
	const char *config;	  /* KEYHOLE_CONFIG, /etc/keyhole/keyholed.conf */
	int passphrase_fd;	  /* --passphrase-fd N, else -1 */
	bool key_file_set;	  /* --key-file or env given explicitly */
	bool store_set;		  /* --store or KEYHOLE_STORE given explicitly */
};

struct cli_command {
	const char *name;
	const char *summary; /* one line for `keyhole --help` */
	const char *usage;   /* full text for `keyhole VERB --help` */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv); /* argv[0] = verb */
};

#define CLI_COMMAND(ident, ...)                                                                    \
	static const struct cli_command cli_cmd_##ident __attribute__((                            \
		used, section("keyhole_cli"), aligned(sizeof(void *)))) = { __VA_ARGS__ }

/* Map a keystore -errno to an exit code and print "keyhole: WHAT: reason"
 * (util.c). */
int cli_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
