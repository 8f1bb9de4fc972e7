/* SPDX-License-Identifier: MIT */
/* Container metadata from the engine's Docker-compatible API over its unix
 * socket (libcurl + jansson): GET /containers/<id>/json. The JSON is
 * untrusted (a container's labels and config are user-controlled): the
 * parser is pure, capped and fuzzed. Results are cached per container id. */
#ifndef KH_ENGINE_H
#define KH_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ENGINE_MAX_BODY (1u << 20) /* cap on one inspect reply */
#define ENGINE_MAX_CAPS 64u	   /* HostConfig.CapAdd entries */
#define ENGINE_MAX_CAP_NAME 32u	   /* bytes of one capability name */
#define ENGINE_MAX_MOUNTS 256u	   /* Mounts[] and HostConfig.Binds entries, each */
#define ENGINE_MAX_PATH 4096u	   /* bytes of one bind source path */
#define ENGINE_MAX_SECOPTS 64u	   /* HostConfig.SecurityOpt entries */
#define ENGINE_MAX_DEVICES 256u	   /* HostConfig.Devices entries */

struct container_meta {
	char id[65];
	char name[256];	    /* without the leading '/' */
	char image[512];    /* Config.Image, e.g. "localhost/payments:1" */
	char image_id[160]; /* .Image, e.g. "sha256:..." */
	json_t *labels;	    /* object of string->string; owned (never NULL after parse) */
	pid_t pid;	    /* State.Pid in the agent's pid namespace */
	bool running;
	bool privileged; /* HostConfig.Privileged */
	char user[128];	 /* Config.User */
	bool root;	 /* user is empty, "0", "root", "0:*" or "root:*" */
	/* Posture (docs/policy.md, require). Missing or null fields read as
	 * the engine's default: nothing added, private, confined. */
	json_t *cap_add; /* HostConfig.CapAdd as upper case without "CAP_"
			  * ("ALL", "SYS_ADMIN"): array of strings; owned, never
			  * NULL after parse */
	json_t *binds;	 /* host paths bind-mounted into the container (Mounts[]
			  * Type "bind" .Source, HostConfig.Binds "SRC:..."),
			  * lexically cleaned (engine_clean_path): array of
			  * strings; owned, never NULL after parse */
	bool host_pid, host_ipc, host_net, host_userns; /* HostConfig.*Mode "host" */
	bool seccomp_unconfined;  /* SecurityOpt seccomp=unconfined / seccomp:unconfined */
	bool apparmor_unconfined; /* SecurityOpt apparmor[=:]unconfined, AppArmorProfile */
	bool paths_unmasked;	  /* HostConfig.MaskedPaths is [] (systempaths=unconfined) */
	unsigned n_devices;	  /* HostConfig.Devices entries (--device) */
};

/* Parse an inspect body. 0, or -EBADMSG (not JSON, wrong types, over caps).
 * On success the caller owns ret->labels, cap_add and binds
 * (container_meta_clear). */
int engine_parse_container(const char *body, size_t len, struct container_meta *ret);
void container_meta_clear(struct container_meta *m);
/* Clean an absolute path lexically, as the engines do (Go filepath.Clean):
 * "//a/./b/../c/" -> "/a/c". Pure. 0, or -EINVAL (not absolute, NUL-free
 * and < cap bytes after cleaning). */
int engine_clean_path(const char *in, char *out, size_t cap);
/* Deep copy (labels, cap_add and binds ref-copied: never modified). */
void container_meta_copy(struct container_meta *dst, const struct container_meta *src);

struct engine;

/* url: "unix:///run/docker.sock" or "unix:///run/podman/podman.sock". */
int engine_new(const char *url, struct engine **ret);
void engine_free(struct engine *e);
const char *engine_url(const struct engine *e);

/* Ask the engine (blocking, bounded by its 1 s connect / 2 s total
 * timeouts; no cache). Fills *ret (caller clears) on success:
 *   -ENOENT container unknown to the engine
 *   -ECONNREFUSED / -EHOSTUNREACH / -ETIMEDOUT engine unreachable
 *   -EBADMSG bad reply, -EINVAL not a container id.
 * keyholed calls it only from its lookup thread (lookup.c). */
int engine_fetch(struct engine *e, const char *id, struct container_meta *ret);

/* The cache (keyholed: event-loop thread only). engine_cached copies a
 * fresh entry (TTL 30 s, init still alive) into *ret: 0, or -ENOENT. */
int engine_cached(struct engine *e, const char *id, struct container_meta *ret);
/* Remember a running container's metadata (copied). */
void engine_cache_put(struct engine *e, const struct container_meta *m);
/* Drop a cache entry (container gone, or a mismatch seen). */
void engine_forget(struct engine *e, const char *id);
/* Cache first, then engine_fetch (blocking): for the CLI and tests. */
int engine_inspect(struct engine *e, const char *id, struct container_meta *ret);

#endif
