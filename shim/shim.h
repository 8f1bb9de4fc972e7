/* SPDX-License-Identifier: MIT */
/* keyhole-shim internal API: one section per module (args, fetch, set,
 * deliver, privdrop, exec, reap). libc only; the modules build with musl for
 * the static binary and with glibc into libshim.a for unit tests. Library
 * functions return 0 or -errno and never log or exit; only main.c does. */
#ifndef KH_SHIM_H
#define KH_SHIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* Exit codes (docs/shim.md). s6 style: fixed codes for setup failures. */
enum shim_exit {
	SHIM_EXIT_USAGE = 100,       /* bad command line */
	SHIM_EXIT_DENIED = 101,      /* a required secret denied or missing */
	SHIM_EXIT_UNREACHABLE = 102, /* agent socket not answering within --timeout */
	SHIM_EXIT_DELIVERY = 103,    /* target dir refused (not tmpfs, hostile) */
	SHIM_EXIT_AGENT = 104,       /* agent sent ERROR or violated the protocol */
	SHIM_EXIT_SYSTEM = 111,      /* any other system error */
	SHIM_EXIT_NOEXEC = 126,      /* CMD found but not executable */
	SHIM_EXIT_NOTFOUND = 127,    /* CMD not found */
};

#define SHIM_DEFAULT_SOCKET "/run/keyhole/agent.sock"
#define SHIM_DEFAULT_DIR "/run/secrets"
#define SHIM_MAX_SECRETS 256u /* entries the shim keeps in one set */
#define SHIM_MAX_TIMEOUT 86400u

/* ---- args.c ---- */
struct shim_want {
	const char *name;  /* secret name (points into argv) */
	const char *file;  /* local file name override, or NULL */
	bool optional;
};

struct shim_opts {
	const char *socket_path;
	const char *dir;
	bool have_user;
	uid_t uid;
	gid_t gid;
	struct shim_want want[PROTO_MAX_NAMES];
	size_t n_want;         /* 0 = everything the policy grants */
	bool watch;
	int rotate_signal;     /* 0 = restart the child */
	unsigned timeout_s;
	bool allow_disk;
	char **cmd;            /* argv after "--", NULL-terminated, non-empty */
};

/* Parse argv. env_socket/env_dir are KEYHOLE_SOCKET/KEYHOLE_DIR (may be
 * NULL). Returns 0, or -EINVAL with a one-line reason in err. */
int args_parse(int argc, char **argv, const char *env_socket, const char *env_dir,
	       struct shim_opts *ret, char *err, size_t errlen);
/* "HUP", "SIGHUP", "1" -> 1; "restart" -> 0. Returns -EINVAL if unknown. */
int args_signal(const char *s);

/* ---- set.c: the secrets the shim holds (values in malloc, wiped) ---- */
struct shim_secret {
	char name[PROTO_MAX_NAME + 1];
	char file[PROTO_MAX_NAME + 1];
	uint64_t version;
	uint16_t mode;
	uint8_t *value;
	uint32_t value_len;
};

struct shim_set {
	struct shim_secret *s;
	size_t n;
};

void set_free(struct shim_set *set);
struct shim_secret *set_find(struct shim_set *set, const char *name);
/* Insert or replace by name (copies the value). -ENOSPC over
 * SHIM_MAX_SECRETS, -EEXIST if another name already uses the file. */
int set_put(struct shim_set *set, const char *name, const char *file, uint64_t version,
	    uint16_t mode, const uint8_t *value, uint32_t value_len);
void set_del(struct shim_set *set, const char *name);
/* Deep copy into an empty dst. */
int set_copy(struct shim_set *dst, const struct shim_set *src);
/* True when both hold the same names, files, modes and values. */
bool set_equal(const struct shim_set *a, const struct shim_set *b);

/* ---- fetch.c: talking to the agent ---- */
/* Receive buffer for frames (malloc, PROTO_MAX_PAYLOAD + header). */
struct fetch_rx {
	uint8_t *buf;
	size_t have;
};

/* One batch as received, validated: SECRET/REVOKED applied into a copy of
 * the set, DENIED recorded for the caller to report. */
struct fetch_denied {
	char name[PROTO_MAX_NAME + 1];
	char reason[PROTO_MAX_REASON + 1];
};

struct fetch_batch {
	struct fetch_denied *denied; /* n_denied entries, malloc */
	size_t n_denied;
	char revoked[SHIM_MAX_SECRETS][PROTO_MAX_NAME + 1];
	size_t n_revoked;
	struct proto_error error;    /* valid when got_error */
	bool got_error;
};

/* Connect to the unix socket, retrying ENOENT/ECONNREFUSED/EAGAIN with
 * backoff until deadline_ms (CLOCK_MONOTONIC ms). Returns the fd or -errno. */
int fetch_connect(const char *path, int64_t deadline_ms);
int fetch_send_request(int fd, const struct shim_opts *o);
int fetch_rx_init(struct fetch_rx *rx);
void fetch_rx_free(struct fetch_rx *rx);
/* Read one batch (frames up to END) from fd, waiting at most until
 * deadline_ms (-1 = forever). Secrets that o wants go into *set (replacing
 * by name; the --secret FILE override applies); others are ignored.
 * Returns 0; -EBADMSG on a protocol violation (bad frame, bad name or
 * file, duplicate file, END count mismatch); -EPIPE if the agent closed;
 * -ETIMEDOUT; -EPROTO when the agent sent ERROR (b->error filled). */
int fetch_batch(int fd, struct fetch_rx *rx, const struct shim_opts *o, int64_t deadline_ms,
		struct shim_set *set, struct fetch_batch *b);
void fetch_batch_free(struct fetch_batch *b);
/* Names of required secrets absent from set (ret_missing[i] points into o). */
size_t fetch_missing(const struct shim_opts *o, const struct shim_set *set,
		     const char **ret_missing, size_t cap);

/* ---- deliver.c: files in the target directory ---- */
/* Open the target dir O_DIRECTORY|O_NOFOLLOW (creating it 0755 if absent);
 * -EXDEV if it is not tmpfs/ramfs and !allow_disk. */
int deliver_open_dir(const char *path, bool allow_disk);
/* Write the whole set as a new version and swap it in atomically
 * (..vN dir, ..data symlink, stable name -> ..data/name links). uid/gid
 * (-1 = keep) own the files. Stale links and the previous version are
 * removed. Returns 0 or -errno; on failure the previous version stays. */
int deliver_apply(int dirfd, const struct shim_set *set, uid_t uid, gid_t gid);
/* Remove everything deliver_apply created. */
int deliver_clean(int dirfd);

/* ---- privdrop.c ---- */
/* setgroups(0) -> setresgid -> setresuid -> NO_NEW_PRIVS, then verify with
 * getresuid/getresgid. Returns 0 or -errno (-EPERM if verification fails). */
int privdrop(uid_t uid, gid_t gid);

/* ---- exec.c ---- */
/* In the current process: drop privileges if o->have_user, set KEYHOLE_DIR,
 * execvp(o->cmd). Returns only on failure, with the exit code to use
 * (126/127/111); *ret_err gets the errno. */
int exec_cmd(const struct shim_opts *o, int *ret_err);
/* Fork a child that restores *child_mask and calls exec_cmd. Returns the
 * pid or -errno. */
pid_t exec_spawn(const struct shim_opts *o, const sigset_t *child_mask);

/* ---- reap.c ---- */
/* Signals the resident shim forwards to its child. */
extern const int reap_forward_signals[];
extern const size_t reap_n_forward;
/* Block every asynchronous signal; save the old mask in *ret_old. Returns a
 * signalfd for them (CLOEXEC|NONBLOCK) or -errno. */
int reap_setup(sigset_t *ret_old);
/* Reap every exited child (waitpid(-1, WNOHANG) loop). If `child` exited,
 * set *ret_status to its wait status and return 1; else 0. */
int reap_children(pid_t child, int *ret_status);
/* Exit code for a wait status: WEXITSTATUS or 128+signal. */
int reap_exit_code(int status);

/* ---- watch.c: the resident loop (main layer: it logs) ---- */
/* Run CMD as a child and stay: forward signals, reap, and with o->watch
 * apply pushed batches from agentfd (reconnecting when it drops). Takes
 * ownership of set and the fds. Returns the shim's exit code. */
int watch_run(const struct shim_opts *o, int dirfd, int agentfd, struct shim_set *set);

#endif
