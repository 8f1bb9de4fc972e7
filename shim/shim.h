/* SPDX-License-Identifier: MIT */
/* keyhole-shim internal API: one section per module (args, mem, set, batch,
 * fetch, deliver, privdrop, exec, reap, watch). libc only, no malloc and no
 * stdio in the static binary; the modules build with musl for it and with
 * glibc into libshim.a for unit tests. Library functions return 0 or -errno
 * and never log or exit; only main.c and watch.c do. */
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
	SHIM_EXIT_USAGE = 100,	     /* bad command line */
	SHIM_EXIT_DENIED = 101,	     /* a required secret denied or missing */
	SHIM_EXIT_UNREACHABLE = 102, /* agent socket not answering within --timeout */
	SHIM_EXIT_DELIVERY = 103,    /* target dir refused (not tmpfs, hostile) */
	SHIM_EXIT_AGENT = 104,	     /* agent sent ERROR or violated the protocol */
	SHIM_EXIT_SYSTEM = 111,	     /* any other system error */
	SHIM_EXIT_NOEXEC = 126,	     /* CMD found but not executable */
	SHIM_EXIT_NOTFOUND = 127,    /* CMD not found */
};

#define SHIM_DEFAULT_SOCKET "/run/keyhole/agent.sock"
#define SHIM_DEFAULT_DIR "/run/secrets"
#define SHIM_MAX_SECRETS 256u /* entries the shim keeps in one set */
#define SHIM_MAX_TIMEOUT 86400u
#define SHIM_DEFAULT_STOP_TIMEOUT 10u

/* ---- args.c ---- */
struct shim_want {
	const char *name; /* secret name (points into argv) */
	const char *file; /* local file name override, or NULL */
	bool optional;
};

/* What a rotation does besides swapping the files. */
enum shim_rotate {
	SHIM_ROTATE_NONE = 0, /* default: swap the files, send nothing */
	SHIM_ROTATE_SIGNAL,   /* send rotate_signal */
	SHIM_ROTATE_RESTART,  /* SIGTERM, SIGKILL after stop_timeout_s, start again */
};

struct shim_opts {
	const char *socket_path;
	const char *dir;
	bool have_user;
	uid_t uid;
	gid_t gid;
	struct shim_want want[PROTO_MAX_NAMES];
	size_t n_want; /* 0 = everything the policy grants */
	bool watch;
	enum shim_rotate rotate;
	bool rotate_given; /* --on-rotate was on the command line */
	int rotate_signal; /* with SHIM_ROTATE_SIGNAL */
	unsigned stop_timeout_s;
	unsigned timeout_s;
	bool allow_disk;
	bool allow_none; /* start the app even when nothing is granted */
	bool version;	 /* --version: print it and exit */
	char **cmd;	 /* argv after "--", NULL-terminated, non-empty */
	uint16_t proto;	 /* REQUEST version: PROTO_VERSION, 1 after an old agent's ERROR */
};

/* Parse argv. env_socket/env_dir are KEYHOLE_SOCKET/KEYHOLE_DIR (may be
 * NULL). Returns 0, or -EINVAL with a one-line reason in err. With
 * --version, ret->version is set and no CMD is needed. */
int args_parse(int argc, char **argv, const char *env_socket, const char *env_dir,
	       struct shim_opts *ret, char *err, size_t errlen);
/* "HUP", "SIGHUP", "1" -> 1; "restart" -> 0. Returns -EINVAL if unknown. */
int args_signal(const char *s);

/* ---- mem.c: page allocations, no malloc in the static shim ---- */
/* Zeroed anonymous pages (mmap); NULL on failure. */
void *mem_alloc(size_t len);
/* Wipe, then unmap. NULL is a no-op. */
void mem_free(void *p, size_t len);
/* Like mem_alloc, for secret bytes: excluded from core dumps
 * (MADV_DONTDUMP) and locked in RAM (mlock) where the kernel and
 * RLIMIT_MEMLOCK allow; both are best effort. */
void *mem_secret_alloc(size_t len);
/* Wipe, unlock, unmap. */
void mem_secret_free(void *p, size_t len);

/* ---- set.c: the secrets the shim holds (values in locked pages, wiped) ---- */
struct shim_secret {
	char name[PROTO_MAX_NAME + 1];
	char file[PROTO_MAX_NAME + 1];
	uint64_t version;
	uint16_t mode;
	uint8_t *value; /* NULL when on_disk */
	uint32_t value_len;
	bool on_disk; /* value not held: it is the current file on the tmpfs */
	/* v2 delivery (PROTO_D_*). Without PROTO_D_FILE, file is "" and no
	 * file is written. A PROTO_D_ENV entry keeps its value (never
	 * on_disk): the app is (re)started with it in its environment. */
	uint8_t delivery;
	char env[PROTO_MAX_ENV_NAME + 1];
	char env_file[PROTO_MAX_ENV_NAME + 1];
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
/* set_put for a decoded SECRET/SECRET2 m: its delivery, env and env_file,
 * with file (m->file or the --secret override; "" without PROTO_D_FILE)
 * and mode. -EEXIST also when another entry sets one of its variables. */
int set_put_msg(struct shim_set *set, const struct proto_secret *m, const char *file,
		uint16_t mode);
void set_del(struct shim_set *set, const char *name);
/* Deep copy into an empty dst (entries on disk stay on disk). */
int set_copy(struct shim_set *dst, const struct shim_set *src);
/* Wipe and free every value but those of PROTO_D_ENV entries (needed to
 * restart the app); the entries stay, marked on_disk. */
void set_drop_values(struct shim_set *set);
/* Does any entry put something in the app's environment (PROTO_D_ENV)? */
bool set_has_env(const struct shim_set *set);
/* Total bytes of the values held in memory. */
size_t set_bytes(const struct shim_set *set);

/* ---- batch.c: one reply batch, decoded and validated (no I/O) ---- */
struct batch_denied {
	char name[PROTO_MAX_NAME + 1];
	char reason[PROTO_MAX_REASON + 1];
};

/* A batch as received: SECRET/REVOKED/DENIED applied to the caller's set,
 * DENIED and REVOKED recorded for the caller to report. */
struct batch {
	struct batch_denied *denied; /* n_denied entries (mem_alloc) */
	size_t n_denied;
	char (*revoked)[PROTO_MAX_NAME + 1]; /* n_revoked entries (mem_alloc) */
	size_t n_revoked;
	uint32_t count;		  /* messages so far, checked against END */
	struct proto_error error; /* valid when got_error */
	bool got_error;
};

/* Apply every whole frame in buf[0..len) to set, stopping after END.
 * *ret_used gets the bytes consumed (whole frames only). Returns 1 after a
 * valid END, 0 when more bytes are needed, -EBADMSG on a protocol
 * violation (bad frame, bad name or file, duplicate file, END count
 * mismatch, over a cap), -EPROTO when the agent sent ERROR (b->error
 * filled), -ENOMEM. Secrets that o does not want are ignored; the --secret
 * FILE override applies. */
int batch_feed(const uint8_t *buf, size_t len, const struct shim_opts *o, struct shim_set *set,
	       struct batch *b, size_t *ret_used);
void batch_free(struct batch *b);
/* Names of required secrets absent from set (ret_missing[i] points into o). */
size_t batch_missing(const struct shim_opts *o, const struct shim_set *set,
		     const char **ret_missing, size_t cap);

/* ---- fetch.c: talking to the agent ---- */
/* Receive buffer for frames: locked pages, grown to the frame being read
 * (at most PROTO_MAX_PAYLOAD + header), wiped as frames are consumed. */
struct fetch_rx {
	uint8_t *buf;
	size_t have, cap;
};

/* Connect to the unix socket, retrying ENOENT/ECONNREFUSED/EAGAIN with
 * backoff until deadline_ms (CLOCK_MONOTONIC ms). Returns the fd, -errno,
 * or -ECANCELED as soon as cancel_fd (-1 = none) is readable. */
int fetch_connect(const char *path, int64_t deadline_ms, int cancel_fd);
/* REQUEST of version o->proto. */
int fetch_send_request(int fd, const struct shim_opts *o);
void fetch_rx_free(struct fetch_rx *rx);
/* Read one batch (frames up to END) from fd into *set and *b (batch_feed),
 * waiting at most until deadline_ms (-1 = forever). Returns 0, a
 * batch_feed error, -EPIPE if the agent closed, -ETIMEDOUT, or -ECANCELED
 * when cancel_fd (-1 = none) became readable first. */
int fetch_batch(int fd, struct fetch_rx *rx, const struct shim_opts *o, int64_t deadline_ms,
		int cancel_fd, struct shim_set *set, struct batch *b);
/* Wait for ms unless cancel_fd becomes readable: 0 or -ECANCELED. */
int fetch_sleep(int64_t ms, int cancel_fd);

/* ---- deliver.c: files in the target directory ---- */
/* Open the target dir O_DIRECTORY|O_NOFOLLOW (creating it 0755 if absent);
 * -EXDEV if it is not tmpfs/ramfs and !allow_disk. */
int deliver_open_dir(const char *path, bool allow_disk);
/* Write the whole set as a new version and swap it in atomically
 * (..vN dir, ..data symlink, stable name -> ..data/name links). uid/gid
 * (-1 = keep) own the files. An entry on_disk is copied from the current
 * version's file (in the kernel: its value never enters the shim). Stale
 * links and the previous version are removed. Returns 0 or -errno; on
 * failure the previous version stays. */
int deliver_apply(int dirfd, const struct shim_set *set, uid_t uid, gid_t gid);
/* True when writing next would give the files the directory already holds
 * for cur: same names, files and modes, and every value held in next equal
 * to its current file (entries on_disk are unchanged by definition). */
bool deliver_same(int dirfd, const struct shim_set *next, const struct shim_set *cur);
/* Remove everything deliver_apply created. */
int deliver_clean(int dirfd);

/* ---- privdrop.c ---- */
/* setgroups(0) -> setresgid -> setresuid -> NO_NEW_PRIVS, then verify with
 * getresuid/getresgid. Returns 0 or -errno (-EPERM if verification fails).
 * Not root and already uid/gid (real, effective, saved): only NO_NEW_PRIVS
 * (the runtime chose the groups). */
int privdrop(uid_t uid, gid_t gid);
/* For --user as non-root: 0 when the process already runs as uid/gid (the
 * drop is then a no-op), -EPERM when it is another non-root user. */
int privdrop_check(uid_t uid, gid_t gid);

/* ---- exec.c ---- */
/* In the current process: restore the signal state of the shim's parent
 * (old_mask, TTIN/TTOU), drop privileges if o->have_user, set KEYHOLE_DIR
 * and, for the entries of set (NULL = none), each env (the value) and
 * env_file (DIR/file, absolute); wipe set; execvp(o->cmd). Returns only on
 * failure, with the exit code to use (126/127/111); *ret_err gets the
 * errno. */
int exec_cmd(const struct shim_opts *o, struct shim_set *set, uint64_t old_mask, int *ret_err);
/* Fork a child that calls exec_cmd (the parent's set is untouched).
 * Returns the pid or -errno. */
pid_t exec_spawn(const struct shim_opts *o, struct shim_set *set, uint64_t old_mask);
/* Pure, for tests: build the app's envp from env (environ-like) into
 * locked pages; *ret_bytes gets their size (mem_secret_free them). NULL
 * on ENOMEM. dir must be absolute. */
char **exec_make_env(char **env, const char *dir, const struct shim_set *set, size_t *ret_bytes);

/* ---- reap.c ---- */
/* Signal masks are the kernel's 64-bit sets (bit N-1 = signal N), set with
 * the raw syscalls so every signal the kernel knows is covered, the ones a
 * libc reserves included. */
#define REAP_BIT(sig) (1ull << ((sig)-1))
/* Every signal except SIGKILL/SIGSTOP, the synchronous ones and TTIN/TTOU
 * (tini's list): the ones the shim reads from its signalfd. */
uint64_t reap_async_mask(void);
/* The signals that end the shim before the app runs: TERM, INT, QUIT. */
#define REAP_STOP_MASK (REAP_BIT(SIGTERM) | REAP_BIT(SIGINT) | REAP_BIT(SIGQUIT))
/* First thing in main (tini): block reap_async_mask(), ignore TTIN/TTOU
 * (the shim may be in a background process group), save the old mask in
 * *ret_old. Returns a signalfd (CLOEXEC|NONBLOCK) that reads only
 * REAP_STOP_MASK: other signals stay pending until reap_widen. */
int reap_setup(uint64_t *ret_old);
/* Let the signalfd read every signal in reap_async_mask(). */
int reap_widen(int sigfd);
/* Restore the caller's mask and TTIN/TTOU (in the child, before exec). */
void reap_restore(uint64_t old_mask);
/* Read one signal from the signalfd: its number, 0 if none pending. */
int reap_read(int sigfd);
/* Reap every exited child (waitpid(-1, WNOHANG) loop). If `child` exited,
 * set *ret_status to its wait status and return 1; else 0. */
int reap_children(pid_t child, int *ret_status);
/* Exit code for a wait status: WEXITSTATUS or 128+signal. */
int reap_exit_code(int status);

/* ---- watch.c: the resident loop (main layer: it logs) ---- */
/* Run CMD as a child and stay: forward signals, reap, and with o->watch
 * apply pushed batches from agentfd (reconnecting when it drops). Takes
 * ownership of set (values already dropped), sigfd and the fds. Returns
 * the shim's exit code. */
int watch_run(const struct shim_opts *o, int dirfd, int agentfd, int sigfd, uint64_t old_mask,
	      struct shim_set *set);

#endif
