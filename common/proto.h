/* SPDX-License-Identifier: MIT */
/* keyhole wire format v2 (docs/protocol.md): framing plus typed encode and
 * decode of every message. Syscall-free and allocation-free, so it is fuzzed
 * directly; both sides treat every decoded field as untrusted.
 *
 * Frame:  u32 big-endian payload length | payload
 * Payload: u8 type | fields.  str = u16 BE length | bytes (no NUL inside);
 *          blob = u32 BE length | bytes.  Integers are big-endian.
 *
 * Encoders write into a caller buffer (the agent passes sodium_malloc memory
 * for frames that carry values) and return the frame length or -ENOBUFS.
 * Decoded strings are copied NUL-terminated into fixed arrays; a SECRET's
 * value points into the caller's payload buffer (wipe it after use). */
#ifndef KH_PROTO_H
#define KH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_VERSION 2u     /* what this codec speaks and encodes by default */
#define PROTO_VERSION_MIN 1u /* the oldest REQUEST the agent still answers */
#define PROTO_HDR 4u
#define PROTO_MAX_NAME 255u	   /* secret name, file name */
#define PROTO_MAX_REASON 511u	   /* denial / error text */
#define PROTO_MAX_VALUE (1u << 20) /* one secret value */
#define PROTO_MAX_NAMES 64u	   /* names in one REQUEST */
#define PROTO_MAX_ADMIN (1u << 20) /* admin JSON text */
#define PROTO_MAX_ENV_NAME 128u	   /* environment variable name (v2) */
/* Largest payload either side accepts: a SECRET2 with a maximal value. */
#define PROTO_MAX_PAYLOAD                                                                          \
	(PROTO_MAX_VALUE + 2u * (PROTO_MAX_NAME + 2u) + 2u * (PROTO_MAX_ENV_NAME + 2u) + 64u)
/* Largest REQUEST payload: what the agent buffers before it has decoded. */
#define PROTO_MAX_REQUEST (8u + PROTO_MAX_NAMES * (PROTO_MAX_NAME + 2u))

enum proto_type {
	/* shim -> agent */
	PROTO_REQUEST = 0x01, /* u16 version (1 or 2), u8 flags, u16 n, n x str name */
	/* cli -> agent (admin socket) */
	PROTO_ADMIN = 0x10, /* blob JSON request */
	/* agent -> shim */
	PROTO_SECRET = 0x81,  /* str name, u64 version, str file, u16 mode, blob value */
	PROTO_DENIED = 0x82,  /* str name, str reason */
	PROTO_REVOKED = 0x83, /* str name, str file */
	PROTO_END = 0x84,     /* u32 count of SECRET+DENIED+REVOKED in this batch */
	PROTO_ERROR = 0x85,   /* u16 code, str reason; the agent then closes */
	/* v2 only: str name, u64 version, u8 delivery, str file, u16 mode,
	 * str env, str env_file, blob value */
	PROTO_SECRET2 = 0x86,
	/* agent -> cli */
	PROTO_ADMIN_REPLY = 0x90, /* blob JSON reply */
};

enum proto_flags {
	PROTO_F_WATCH = 0x01, /* keep the connection; agent pushes rotations */
};
#define PROTO_F_ALL PROTO_F_WATCH

/* SECRET2 delivery bits. Each string is non-empty exactly when its bit is
 * set; ENV_FILE needs FILE; FILE or ENV must be set. A v1 SECRET decodes
 * as FILE only. */
enum proto_delivery {
	PROTO_D_FILE = 0x01,	 /* write the value to `file` */
	PROTO_D_ENV = 0x02,	 /* put the value in the app's environment as `env` */
	PROTO_D_ENV_FILE = 0x04, /* set `env_file` to the file's absolute path */
};
#define PROTO_D_ALL (PROTO_D_FILE | PROTO_D_ENV | PROTO_D_ENV_FILE)

enum proto_err {
	PROTO_E_BADMSG = 1,  /* malformed or unknown message */
	PROTO_E_VERSION = 2, /* unsupported protocol version */
	PROTO_E_TOOBIG = 3,  /* frame over the cap */
	PROTO_E_DENIED = 4,  /* attestation failed: caller not identified */
	PROTO_E_BUSY = 5,    /* connection or rate limit */
	PROTO_E_INTERNAL = 6,
};

struct proto_request {
	uint16_t version;
	uint8_t flags;
	uint16_t n_names; /* 0 = everything the policy grants */
	char names[PROTO_MAX_NAMES][PROTO_MAX_NAME + 1];
};

struct proto_secret {
	char name[PROTO_MAX_NAME + 1];
	uint64_t version;
	char file[PROTO_MAX_NAME + 1]; /* "" when delivery lacks PROTO_D_FILE */
	uint16_t mode;
	const uint8_t *value; /* points into the decoded payload */
	uint32_t value_len;
	/* v2 (SECRET2); a v1 SECRET decodes as delivery = PROTO_D_FILE */
	uint8_t delivery;
	char env[PROTO_MAX_ENV_NAME + 1];
	char env_file[PROTO_MAX_ENV_NAME + 1];
};

struct proto_denied {
	char name[PROTO_MAX_NAME + 1];
	char reason[PROTO_MAX_REASON + 1];
};

struct proto_revoked {
	char name[PROTO_MAX_NAME + 1];
	char file[PROTO_MAX_NAME + 1];
};

struct proto_end {
	uint32_t count;
};

struct proto_error {
	uint16_t code;
	char reason[PROTO_MAX_REASON + 1];
};

struct proto_admin {
	const char *json; /* points into payload; NOT NUL-terminated */
	uint32_t len;
};

struct proto_msg {
	enum proto_type type;
	union {
		struct proto_request request;
		struct proto_secret secret; /* PROTO_SECRET and PROTO_SECRET2 */
		struct proto_denied denied;
		struct proto_revoked revoked;
		struct proto_end end;
		struct proto_error error;
		struct proto_admin admin; /* PROTO_ADMIN and PROTO_ADMIN_REPLY */
	} u;
};

/* What the agent sends to a shim: small (no 16 KiB request inside), so a
 * shim keeps it on the stack. */
struct proto_reply {
	enum proto_type type; /* SECRET, SECRET2, DENIED, REVOKED, END or ERROR */
	union {
		struct proto_secret secret; /* SECRET and SECRET2 */
		struct proto_denied denied;
		struct proto_revoked revoked;
		struct proto_end end;
		struct proto_error error;
	} u;
};

/* Framing. Given the bytes buffered so far, set *ret_payload_len and return
 * 0 when a whole frame of at most max_payload bytes is present; -EAGAIN when
 * more bytes are needed; -EMSGSIZE when the length prefix exceeds
 * max_payload or is zero (checked as soon as the 4 prefix bytes arrive). */
int proto_frame_check(const uint8_t *buf, size_t have, uint32_t max_payload,
		      uint32_t *ret_payload_len);

/* Decode one payload (without the 4-byte prefix). Exact-size: trailing bytes
 * are an error. Returns 0 or -EBADMSG (malformed, unknown type, bad string,
 * over a cap); on failure *ret_msg is zeroed. Used by tests and fuzzers;
 * the programs use the typed decoders below. */
int proto_decode(const uint8_t *payload, size_t len, struct proto_msg *ret_msg);

/* Typed decoders, one per direction; each is exact-size and zeroes *ret
 * first (and again on failure). A wrong but well-known type for that
 * direction is -EPROTOTYPE; anything malformed is -EBADMSG.
 * proto_decode_request: agent side; a REQUEST of a version outside
 *   PROTO_VERSION_MIN..PROTO_VERSION is -EPROTONOSUPPORT (checked before
 *   the rest is read); ret->version tells the caller which it got. The 16 KiB request
 *   belongs to its caller: keyholed keeps one in struct agent.
 * proto_decode_reply: shim side (SECRET/SECRET2/DENIED/REVOKED/END/ERROR).
 * proto_decode_admin: want = PROTO_ADMIN (agent) or PROTO_ADMIN_REPLY (cli). */
int proto_decode_request(const uint8_t *payload, size_t len, struct proto_request *ret);
int proto_decode_reply(const uint8_t *payload, size_t len, struct proto_reply *ret);
int proto_decode_admin(const uint8_t *payload, size_t len, enum proto_type want,
		       struct proto_admin *ret);

/* Encoders: write a complete frame (prefix included) into buf. Return the
 * frame length (> 0) or -ENOBUFS if cap is too small, -EINVAL if a field is
 * over its cap or a string holds a NUL. */
ssize_t proto_encode_request(uint8_t *buf, size_t cap, uint8_t flags, const char *const *names,
			     size_t n_names);
/* The same with an explicit version (PROTO_VERSION_MIN..PROTO_VERSION):
 * a v2 shim falls back to 1 for an old agent; tests speak 1 as an old shim. */
ssize_t proto_encode_request_v(uint8_t *buf, size_t cap, uint16_t version, uint8_t flags,
			       const char *const *names, size_t n_names);
ssize_t proto_encode_secret(uint8_t *buf, size_t cap, const char *name, uint64_t version,
			    const char *file, uint16_t mode, const uint8_t *value,
			    size_t value_len);
ssize_t proto_encode_denied(uint8_t *buf, size_t cap, const char *name, const char *reason);
ssize_t proto_encode_revoked(uint8_t *buf, size_t cap, const char *name, const char *file);
ssize_t proto_encode_end(uint8_t *buf, size_t cap, uint32_t count);
ssize_t proto_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *reason);
/* type is PROTO_ADMIN or PROTO_ADMIN_REPLY */
ssize_t proto_encode_admin(uint8_t *buf, size_t cap, enum proto_type type, const char *json,
			   size_t len);

/* SECRET2 (v2): m's name, version, delivery, file, mode, env, env_file
 * and value; the delivery rules above are checked (-EINVAL). */
ssize_t proto_encode_secret2(uint8_t *buf, size_t cap, const struct proto_secret *m);

/* Exact frame size a SECRET with these field lengths needs. */
size_t proto_secret_frame_size(size_t name_len, size_t file_len, size_t value_len);
/* Exact frame size of a SECRET2. */
size_t proto_secret2_frame_size(size_t name_len, size_t file_len, size_t env_len,
				size_t env_file_len, size_t value_len);

/* A file name the shim may create: 1..255 bytes, no '/', no NUL, not
 * starting with '.', not "." or "..". */
bool proto_file_name_valid(const char *s);
/* A secret name: 1..255 of [A-Za-z0-9._/-], no "." or ".." segment, no
 * leading/trailing '/', no "//". The one validator shared by all sides.
 * Both validators return false for NULL. */
bool proto_secret_name_valid(const char *s);
/* Why s is not a valid secret name (the rule it breaks, for an error
 * message: "contains ' ' at byte 3 (allowed: A-Z a-z 0-9 . _ - /)"), written
 * into buf; NULL when it is valid. Agrees with proto_secret_name_valid. */
const char *proto_secret_name_problem(const char *s, char *buf, size_t len);

/* An environment variable name a grant may set (v2 env / env_file): POSIX
 * [A-Za-z_][A-Za-z0-9_]*, 1..PROTO_MAX_ENV_NAME bytes, and not one that
 * changes what code runs or how (LD_*, DYLD_*, KEYHOLE_*, PATH, HOME, IFS,
 * BASH_ENV, NODE_OPTIONS, ...: the list is in proto.c and
 * docs/policy.md). False for NULL. */
bool proto_env_name_valid(const char *s);
/* Why s is refused, like proto_secret_name_problem; NULL when valid. */
const char *proto_env_name_problem(const char *s, char *buf, size_t len);

const char *proto_type_name(int type);

#endif
