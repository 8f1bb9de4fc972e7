/* SPDX-License-Identifier: MIT */
/* Wire codec v2 (v1 REQUEST and SECRET still decoded and encoded). Every read checks the remaining
 * length before it advances (sshbuf style: `rem < n`, never `p + n > end`). No syscalls, no malloc.
 */
#include "proto.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>

struct rd {
	const uint8_t *p;
	size_t rem;
};

struct wr {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->rem < 1)
		return -EBADMSG;
	*v = r->p[0];
	r->p++;
	r->rem--;
	return 0;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
	if (r->rem < 2)
		return -EBADMSG;
	*v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->rem -= 2;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->rem < 4)
		return -EBADMSG;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 |
	     (uint32_t)r->p[3];
	r->p += 4;
	r->rem -= 4;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;
	if (rd_u32(r, &hi) < 0 || rd_u32(r, &lo) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* str into a fixed array of max+1 bytes; no NUL inside, length <= max. */
static int rd_str(struct rd *r, char *out, size_t max, bool allow_empty)
{
	uint16_t n;
	if (rd_u16(r, &n) < 0)
		return -EBADMSG;
	if (n > max || r->rem < n || (!allow_empty && n == 0))
		return -EBADMSG;
	if (memchr(r->p, '\0', n))
		return -EBADMSG;
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	r->rem -= n;
	return 0;
}

static int rd_blob(struct rd *r, const uint8_t **out, uint32_t *out_len, uint32_t max)
{
	uint32_t n;
	if (rd_u32(r, &n) < 0)
		return -EBADMSG;
	if (n > max || r->rem < n)
		return -EBADMSG;
	*out = r->p;
	*out_len = n;
	r->p += n;
	r->rem -= n;
	return 0;
}

static void wr_bytes(struct wr *w, const void *b, size_t n)
{
	if (w->err)
		return;
	if (w->cap - w->len < n) {
		w->err = -ENOBUFS;
		return;
	}
	if (n)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	wr_bytes(w, b, 2);
}

static void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	wr_bytes(w, b, 4);
}

static void wr_u64(struct wr *w, uint64_t v)
{
	wr_u32(w, (uint32_t)(v >> 32));
	wr_u32(w, (uint32_t)v);
}

static void wr_str(struct wr *w, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n > max) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	wr_u16(w, (uint16_t)n);
	wr_bytes(w, s, n);
}

static void wr_blob(struct wr *w, const void *b, size_t n, size_t max)
{
	if (n > max) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	wr_u32(w, (uint32_t)n);
	wr_bytes(w, b, n);
}

static void wr_begin(struct wr *w, uint8_t *buf, size_t cap, enum proto_type type)
{
	w->p = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	wr_u32(w, 0); /* length, patched in wr_end */
	wr_u8(w, (uint8_t)type);
}

static ssize_t wr_end(struct wr *w)
{
	if (w->err)
		return w->err;
	size_t pl = w->len - PROTO_HDR;
	if (pl > PROTO_MAX_PAYLOAD)
		return -EINVAL;
	w->p[0] = (uint8_t)(pl >> 24);
	w->p[1] = (uint8_t)(pl >> 16);
	w->p[2] = (uint8_t)(pl >> 8);
	w->p[3] = (uint8_t)pl;
	return (ssize_t)w->len;
}

int proto_frame_check(const uint8_t *buf, size_t have, uint32_t max_payload,
		      uint32_t *ret_payload_len)
{
	if (have < PROTO_HDR)
		return -EAGAIN;
	uint32_t n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
		     (uint32_t)buf[3];
	if (n == 0 || n > max_payload)
		return -EMSGSIZE;
	if (have - PROTO_HDR < n)
		return -EAGAIN;
	*ret_payload_len = n;
	return 0;
}

static int dec_request(struct rd *r, struct proto_request *m)
{
	if (rd_u16(r, &m->version) < 0 || rd_u8(r, &m->flags) < 0 || rd_u16(r, &m->n_names) < 0)
		return -EBADMSG;
	if ((m->flags & ~PROTO_F_ALL) || m->n_names > PROTO_MAX_NAMES)
		return -EBADMSG;
	for (uint16_t i = 0; i < m->n_names; i++)
		if (rd_str(r, m->names[i], PROTO_MAX_NAME, false) < 0)
			return -EBADMSG;
	return 0;
}

static int dec_secret(struct rd *r, struct proto_secret *m)
{
	if (rd_str(r, m->name, PROTO_MAX_NAME, false) < 0 || rd_u64(r, &m->version) < 0 ||
	    rd_str(r, m->file, PROTO_MAX_NAME, false) < 0 || rd_u16(r, &m->mode) < 0 ||
	    rd_blob(r, &m->value, &m->value_len, PROTO_MAX_VALUE) < 0)
		return -EBADMSG;
	if (m->mode & ~07777u)
		return -EBADMSG;
	m->delivery = PROTO_D_FILE;
	return 0;
}

/* The delivery rules of SECRET2 (proto.h): 0 or -EINVAL. */
static int delivery_check(uint8_t d, const char *file, const char *env, const char *env_file)
{
	bool f = file && file[0], e = env && env[0], ef = env_file && env_file[0];
	if ((d & ~PROTO_D_ALL) || !(d & (PROTO_D_FILE | PROTO_D_ENV)))
		return -EINVAL;
	if (f != !!(d & PROTO_D_FILE) || e != !!(d & PROTO_D_ENV) || ef != !!(d & PROTO_D_ENV_FILE))
		return -EINVAL;
	if ((d & PROTO_D_ENV_FILE) && !(d & PROTO_D_FILE))
		return -EINVAL;
	if ((e && !proto_env_name_valid(env)) || (ef && !proto_env_name_valid(env_file)))
		return -EINVAL;
	if (e && ef && strcmp(env, env_file) == 0)
		return -EINVAL;
	return 0;
}

static int dec_secret2(struct rd *r, struct proto_secret *m)
{
	if (rd_str(r, m->name, PROTO_MAX_NAME, false) < 0 || rd_u64(r, &m->version) < 0 ||
	    rd_u8(r, &m->delivery) < 0 || rd_str(r, m->file, PROTO_MAX_NAME, true) < 0 ||
	    rd_u16(r, &m->mode) < 0 || rd_str(r, m->env, PROTO_MAX_ENV_NAME, true) < 0 ||
	    rd_str(r, m->env_file, PROTO_MAX_ENV_NAME, true) < 0 ||
	    rd_blob(r, &m->value, &m->value_len, PROTO_MAX_VALUE) < 0)
		return -EBADMSG;
	if ((m->mode & ~07777u) || delivery_check(m->delivery, m->file, m->env, m->env_file) < 0)
		return -EBADMSG;
	return 0;
}

static int dec_admin(struct rd *r, struct proto_admin *m)
{
	const uint8_t *p;
	if (rd_blob(r, &p, &m->len, PROTO_MAX_ADMIN) < 0)
		return -EBADMSG;
	m->json = (const char *)p;
	return 0;
}

static int dec_denied(struct rd *r, struct proto_denied *m)
{
	if (rd_str(r, m->name, PROTO_MAX_NAME, false) < 0)
		return -EBADMSG;
	return rd_str(r, m->reason, PROTO_MAX_REASON, true);
}

static int dec_revoked(struct rd *r, struct proto_revoked *m)
{
	if (rd_str(r, m->name, PROTO_MAX_NAME, false) < 0)
		return -EBADMSG;
	return rd_str(r, m->file, PROTO_MAX_NAME, false);
}

static int dec_error(struct rd *r, struct proto_error *m)
{
	if (rd_u16(r, &m->code) < 0)
		return -EBADMSG;
	return rd_str(r, m->reason, PROTO_MAX_REASON, true);
}

static int dec_body(struct rd *r, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_REQUEST: return dec_request(r, &m->u.request);
	case PROTO_SECRET: return dec_secret(r, &m->u.secret);
	case PROTO_SECRET2: return dec_secret2(r, &m->u.secret);
	case PROTO_DENIED: return dec_denied(r, &m->u.denied);
	case PROTO_REVOKED: return dec_revoked(r, &m->u.revoked);
	case PROTO_END: return rd_u32(r, &m->u.end.count);
	case PROTO_ERROR: return dec_error(r, &m->u.error);
	case PROTO_ADMIN:
	case PROTO_ADMIN_REPLY: return dec_admin(r, &m->u.admin);
	}
	return -EBADMSG;
}

/* Type byte and body of one payload into m (zeroed first); exact size. */
static int decode_into(const uint8_t *payload, size_t len, struct proto_msg *m)
{
	struct rd r = { payload, len };
	uint8_t t;

	if (len > PROTO_MAX_PAYLOAD || rd_u8(&r, &t) < 0)
		return -EBADMSG;
	m->type = (enum proto_type)t;
	if (dec_body(&r, m) < 0 || r.rem != 0)
		return -EBADMSG;
	return 0;
}

int proto_decode(const uint8_t *payload, size_t len, struct proto_msg *ret_msg)
{
	memset(ret_msg, 0, sizeof(*ret_msg));
	if (decode_into(payload, len, ret_msg) < 0) {
		memset(ret_msg, 0, sizeof(*ret_msg));
		return -EBADMSG;
	}
	return 0;
}

int proto_decode_request(const uint8_t *payload, size_t len, struct proto_request *ret)
{
	struct rd r = { payload, len };
	uint8_t t;
	uint16_t version;

	memset(ret, 0, sizeof(*ret));
	if (len > PROTO_MAX_REQUEST || rd_u8(&r, &t) < 0)
		return -EBADMSG;
	if (t != PROTO_REQUEST)
		return -EPROTOTYPE;
	/* the version decides how the rest is read: check it first */
	if (rd_u16(&r, &version) < 0)
		return -EBADMSG;
	if (version < PROTO_VERSION_MIN || version > PROTO_VERSION)
		return -EPROTONOSUPPORT;
	r = (struct rd){ payload + 1, len - 1 };
	if (dec_request(&r, ret) < 0 || r.rem != 0) {
		memset(ret, 0, sizeof(*ret));
		return -EBADMSG;
	}
	return 0;
}

int proto_decode_reply(const uint8_t *payload, size_t len, struct proto_reply *ret)
{
	struct rd r = { payload, len };
	uint8_t t;
	int e = -EBADMSG;

	memset(ret, 0, sizeof(*ret));
	if (len > PROTO_MAX_PAYLOAD || rd_u8(&r, &t) < 0)
		return -EBADMSG;
	ret->type = (enum proto_type)t;
	switch (ret->type) {
	case PROTO_SECRET: e = dec_secret(&r, &ret->u.secret); break;
	case PROTO_SECRET2: e = dec_secret2(&r, &ret->u.secret); break;
	case PROTO_DENIED: e = dec_denied(&r, &ret->u.denied); break;
	case PROTO_REVOKED: e = dec_revoked(&r, &ret->u.revoked); break;
	case PROTO_END: e = rd_u32(&r, &ret->u.end.count); break;
	case PROTO_ERROR: e = dec_error(&r, &ret->u.error); break;
	case PROTO_REQUEST:
	case PROTO_ADMIN:
	case PROTO_ADMIN_REPLY: return -EPROTOTYPE;
	default: return -EBADMSG;
	}
	if (e < 0 || r.rem != 0) {
		memset(ret, 0, sizeof(*ret));
		return -EBADMSG;
	}
	return 0;
}

int proto_decode_admin(const uint8_t *payload, size_t len, enum proto_type want,
		       struct proto_admin *ret)
{
	struct rd r = { payload, len };
	uint8_t t;

	memset(ret, 0, sizeof(*ret));
	if (rd_u8(&r, &t) < 0 || (want != PROTO_ADMIN && want != PROTO_ADMIN_REPLY))
		return -EBADMSG;
	if (t != (uint8_t)want)
		return -EPROTOTYPE;
	if (dec_admin(&r, ret) < 0 || r.rem != 0) {
		memset(ret, 0, sizeof(*ret));
		return -EBADMSG;
	}
	return 0;
}

ssize_t proto_encode_request(uint8_t *buf, size_t cap, uint8_t flags, const char *const *names,
			     size_t n_names)
{
	return proto_encode_request_v(buf, cap, PROTO_VERSION, flags, names, n_names);
}

ssize_t proto_encode_request_v(uint8_t *buf, size_t cap, uint16_t version, uint8_t flags,
			       const char *const *names, size_t n_names)
{
	struct wr w;
	if (n_names > PROTO_MAX_NAMES || (flags & ~PROTO_F_ALL) || version < PROTO_VERSION_MIN ||
	    version > PROTO_VERSION)
		return -EINVAL;
	wr_begin(&w, buf, cap, PROTO_REQUEST);
	wr_u16(&w, version);
	wr_u8(&w, flags);
	wr_u16(&w, (uint16_t)n_names);
	for (size_t i = 0; i < n_names; i++) {
		if (!names[i] || !names[i][0])
			return -EINVAL;
		wr_str(&w, names[i], PROTO_MAX_NAME);
	}
	return wr_end(&w);
}

size_t proto_secret_frame_size(size_t name_len, size_t file_len, size_t value_len)
{
	return PROTO_HDR + 1 + 2 + name_len + 8 + 2 + file_len + 2 + 4 + value_len;
}

ssize_t proto_encode_secret(uint8_t *buf, size_t cap, const char *name, uint64_t version,
			    const char *file, uint16_t mode, const uint8_t *value, size_t value_len)
{
	struct wr w;
	if (!name[0] || !file[0] || (mode & ~07777u))
		return -EINVAL;
	wr_begin(&w, buf, cap, PROTO_SECRET);
	wr_str(&w, name, PROTO_MAX_NAME);
	wr_u64(&w, version);
	wr_str(&w, file, PROTO_MAX_NAME);
	wr_u16(&w, mode);
	wr_blob(&w, value, value_len, PROTO_MAX_VALUE);
	return wr_end(&w);
}

size_t proto_secret2_frame_size(size_t name_len, size_t file_len, size_t env_len,
				size_t env_file_len, size_t value_len)
{
	return proto_secret_frame_size(name_len, file_len, value_len) + 1 + 2 + env_len + 2 +
	       env_file_len;
}

ssize_t proto_encode_secret2(uint8_t *buf, size_t cap, const struct proto_secret *m)
{
	struct wr w;
	if (!m->name[0] || (m->mode & ~07777u) ||
	    delivery_check(m->delivery, m->file, m->env, m->env_file) < 0)
		return -EINVAL;
	wr_begin(&w, buf, cap, PROTO_SECRET2);
	wr_str(&w, m->name, PROTO_MAX_NAME);
	wr_u64(&w, m->version);
	wr_u8(&w, m->delivery);
	wr_str(&w, m->file, PROTO_MAX_NAME);
	wr_u16(&w, m->mode);
	wr_str(&w, m->env, PROTO_MAX_ENV_NAME);
	wr_str(&w, m->env_file, PROTO_MAX_ENV_NAME);
	wr_blob(&w, m->value, m->value_len, PROTO_MAX_VALUE);
	return wr_end(&w);
}

ssize_t proto_encode_denied(uint8_t *buf, size_t cap, const char *name, const char *reason)
{
	struct wr w;
	if (!name[0])
		return -EINVAL;
	wr_begin(&w, buf, cap, PROTO_DENIED);
	wr_str(&w, name, PROTO_MAX_NAME);
	wr_str(&w, reason, PROTO_MAX_REASON);
	return wr_end(&w);
}

ssize_t proto_encode_revoked(uint8_t *buf, size_t cap, const char *name, const char *file)
{
	struct wr w;
	if (!name[0] || !file[0])
		return -EINVAL;
	wr_begin(&w, buf, cap, PROTO_REVOKED);
	wr_str(&w, name, PROTO_MAX_NAME);
	wr_str(&w, file, PROTO_MAX_NAME);
	return wr_end(&w);
}

ssize_t proto_encode_end(uint8_t *buf, size_t cap, uint32_t count)
{
	struct wr w;
	wr_begin(&w, buf, cap, PROTO_END);
	wr_u32(&w, count);
	return wr_end(&w);
}

ssize_t proto_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *reason)
{
	struct wr w;
	wr_begin(&w, buf, cap, PROTO_ERROR);
	wr_u16(&w, code);
	wr_str(&w, reason, PROTO_MAX_REASON);
	return wr_end(&w);
}

ssize_t proto_encode_admin(uint8_t *buf, size_t cap, enum proto_type type, const char *json,
			   size_t len)
{
	struct wr w;
	if (type != PROTO_ADMIN && type != PROTO_ADMIN_REPLY)
		return -EINVAL;
	wr_begin(&w, buf, cap, type);
	wr_blob(&w, json, len, PROTO_MAX_ADMIN);
	return wr_end(&w);
}

bool proto_file_name_valid(const char *s)
{
	if (!s) /* callers pass json_string_value() results straight in */
		return false;
	size_t n = strnlen(s, PROTO_MAX_NAME + 1);
	if (n == 0 || n > PROTO_MAX_NAME || s[0] == '.')
		return false;
	return strchr(s, '/') == NULL;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/';
}

bool proto_secret_name_valid(const char *s)
{
	if (!s)
		return false;
	size_t n = strnlen(s, PROTO_MAX_NAME + 1);
	if (n == 0 || n > PROTO_MAX_NAME || s[0] == '/' || s[n - 1] == '/')
		return false;
	const char *seg = s;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !name_char_ok(s[i]))
			return false;
		if (i == n || s[i] == '/') {
			size_t sl = (size_t)(s + i - seg);
			if (sl == 0 || (sl == 1 && seg[0] == '.') ||
			    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			seg = s + i + 1;
		}
	}
	return true;
}

static const char *name_segment_problem(const char *seg, size_t sl)
{
	if (sl == 0)
		return "has an empty segment ('//')";
	if (sl == 1 && seg[0] == '.')
		return "has a '.' segment";
	if (sl == 2 && seg[0] == '.' && seg[1] == '.')
		return "has a '..' segment";
	return NULL;
}

const char *proto_secret_name_problem(const char *s, char *buf, size_t len)
{
	const char *why = NULL, *seg = s;
	size_t n = s ? strnlen(s, PROTO_MAX_NAME + 1) : 0;

	if (n == 0)
		why = "is empty";
	else if (n > PROTO_MAX_NAME)
		why = "is longer than 255 bytes";
	else if (s[0] == '/')
		why = "starts with '/'";
	else if (s[n - 1] == '/')
		why = "ends with '/'";
	for (size_t i = 0; !why && i <= n; i++) {
		if (i < n && !name_char_ok(s[i])) {
			unsigned char c = (unsigned char)s[i];
			if (c == ' ')
				snprintf(buf, len,
					 "contains a space at byte %zu (allowed: A-Z a-z 0-9 "
					 ". _ - /)",
					 i + 1);
			else if (c > 0x20 && c < 0x7f)
				snprintf(buf, len,
					 "contains '%c' at byte %zu (allowed: A-Z a-z 0-9 . _ - /)",
					 c, i + 1);
			else
				snprintf(buf, len,
					 "contains byte 0x%02x at byte %zu (allowed: A-Z a-z "
					 "0-9 . _ - /)",
					 c, i + 1);
			return buf;
		}
		if (i == n || s[i] == '/') {
			why = name_segment_problem(seg, (size_t)(s + i - seg));
			seg = s + i + 1;
		}
	}
	if (!why)
		return NULL;
	snprintf(buf, len, "%s", why);
	return buf;
}

/* Names that change what code runs or how the app starts: a secret (or
 * the path of a secret file) must never land in one. Prefixes end in '_'. */
static const char *const env_denied[] = {
	"LD_",
	"DYLD_",
	"KEYHOLE_",
	"PATH",
	"HOME",
	"SHELL",
	"IFS",
	"ENV",
	"BASH_ENV",
	"SHELLOPTS",
	"BASHOPTS",
	"PS4",
	"GCONV_PATH",
	"GLIBC_TUNABLES",
	"LOCPATH",
	"NLSPATH",
	"HOSTALIASES",
	"RES_OPTIONS",
	"LOCALDOMAIN",
	"TMPDIR",
	"NODE_OPTIONS",
	"NODE_PATH",
	"PYTHONPATH",
	"PYTHONHOME",
	"PYTHONSTARTUP",
	"PERL5LIB",
	"PERL5OPT",
	"PERLLIB",
	"RUBYOPT",
	"RUBYLIB",
	"JAVA_TOOL_OPTIONS",
	"_JAVA_OPTIONS",
	"JDK_JAVA_OPTIONS",
	NULL,
};

static const char *env_denied_match(const char *s)
{
	for (size_t i = 0; env_denied[i]; i++) {
		size_t n = strlen(env_denied[i]);
		bool prefix = env_denied[i][n - 1] == '_';
		if (prefix ? strncmp(s, env_denied[i], n) == 0 : strcmp(s, env_denied[i]) == 0)
			return env_denied[i];
	}
	return NULL;
}

enum env_rule { ENV_OK, ENV_EMPTY, ENV_LONG, ENV_CHAR, ENV_DENIED };

/* Which rule s breaks (*ret_at: the bad byte's index; *ret_denied: the
 * deny-list entry). No stdio: the static shim calls it. */
static enum env_rule env_name_rule(const char *s, size_t *ret_at, const char **ret_denied)
{
	size_t n = s ? strnlen(s, PROTO_MAX_ENV_NAME + 1) : 0;

	if (n == 0)
		return ENV_EMPTY;
	if (n > PROTO_MAX_ENV_NAME)
		return ENV_LONG;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		      (i > 0 && c >= '0' && c <= '9'))) {
			*ret_at = i;
			return ENV_CHAR;
		}
	}
	*ret_denied = env_denied_match(s);
	return *ret_denied ? ENV_DENIED : ENV_OK;
}

const char *proto_env_name_problem(const char *s, char *buf, size_t len)
{
	size_t at = 0;
	const char *d = NULL;

	switch (env_name_rule(s, &at, &d)) {
	case ENV_OK: return NULL;
	case ENV_EMPTY: snprintf(buf, len, "is empty"); break;
	case ENV_LONG: snprintf(buf, len, "is longer than %u bytes", PROTO_MAX_ENV_NAME); break;
	case ENV_CHAR:
		snprintf(buf, len,
			 "has byte 0x%02x at byte %zu (a variable name is [A-Za-z_][A-Za-z0-9_]*)",
			 (unsigned char)s[at], at + 1);
		break;
	case ENV_DENIED:
		snprintf(buf, len,
			 "is refused: %s%s changes what code runs or how (see the deny list "
			 "in docs/policy.md)",
			 d, d[strlen(d) - 1] == '_' ? "*" : "");
		break;
	}
	return buf;
}

bool proto_env_name_valid(const char *s)
{
	size_t at;
	const char *d;
	return env_name_rule(s, &at, &d) == ENV_OK;
}

const char *proto_type_name(int type)
{
	switch (type) {
	case PROTO_REQUEST: return "REQUEST";
	case PROTO_ADMIN: return "ADMIN";
	case PROTO_SECRET: return "SECRET";
	case PROTO_DENIED: return "DENIED";
	case PROTO_REVOKED: return "REVOKED";
	case PROTO_END: return "END";
	case PROTO_ERROR: return "ERROR";
	case PROTO_SECRET2: return "SECRET2";
	case PROTO_ADMIN_REPLY: return "ADMIN_REPLY";
	default: return "UNKNOWN";
	}
}
