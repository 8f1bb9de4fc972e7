/* SPDX-License-Identifier: MIT */
/* Fuzz the wire codec both ways: the input is a byte stream as read from a
 * socket. The agent side frames it with the REQUEST cap and accepts only
 * REQUEST/ADMIN; the shim side frames it with the full payload cap and
 * accepts SECRET/SECRET2/DENIED/REVOKED/END/ERROR (REQUEST v1 and v2). Every decoded message must
 * re-encode to the exact bytes it came from (round-trip property). What the
 * shim then does with a reply is fuzzed on the shim's own code, in
 * fuzz_shim_batch.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

static const char *const *request_names(const struct proto_request *q, const char **tmp)
{
	for (uint16_t i = 0; i < q->n_names; i++)
		tmp[i] = q->names[i];
	return tmp;
}

/* Re-encode m into out; returns the frame length or a negative errno. */
static ssize_t reencode(const struct proto_msg *m, uint8_t *out, size_t cap)
{
	const char *names[PROTO_MAX_NAMES];
	switch (m->type) {
	case PROTO_REQUEST: {
		/* proto_decode reads any version (the agent's typed decoder
		 * refuses unknown ones); the encoder writes only 1 or 2: patch
		 * the field back for the byte comparison. */
		uint16_t v = m->u.request.version;
		bool known = v >= PROTO_VERSION_MIN && v <= PROTO_VERSION;
		ssize_t n = proto_encode_request_v(
			out, cap, known ? v : PROTO_VERSION, m->u.request.flags,
			request_names(&m->u.request, names), m->u.request.n_names);
		if (n > 0 && !known) {
			out[PROTO_HDR + 1] = (uint8_t)(v >> 8);
			out[PROTO_HDR + 2] = (uint8_t)v;
		}
		return n;
	}
	case PROTO_SECRET:
		return proto_encode_secret(out, cap, m->u.secret.name, m->u.secret.version,
					   m->u.secret.file, m->u.secret.mode, m->u.secret.value,
					   m->u.secret.value_len);
	case PROTO_SECRET2: return proto_encode_secret2(out, cap, &m->u.secret);
	case PROTO_DENIED:
		return proto_encode_denied(out, cap, m->u.denied.name, m->u.denied.reason);
	case PROTO_REVOKED:
		return proto_encode_revoked(out, cap, m->u.revoked.name, m->u.revoked.file);
	case PROTO_END: return proto_encode_end(out, cap, m->u.end.count);
	case PROTO_ERROR: return proto_encode_error(out, cap, m->u.error.code, m->u.error.reason);
	case PROTO_ADMIN:
	case PROTO_ADMIN_REPLY:
		return proto_encode_admin(out, cap, m->type, m->u.admin.json, m->u.admin.len);
	}
	FUZZ_CHECK(!"decoder accepted an unknown type");
}

static void agent_side_checks(const struct proto_msg *m)
{
	if (m->type != PROTO_REQUEST)
		return;
	FUZZ_CHECK(m->u.request.n_names <= PROTO_MAX_NAMES);
	for (uint16_t i = 0; i < m->u.request.n_names; i++) {
		const char *n = m->u.request.names[i];
		size_t l = strlen(n);
		FUZZ_CHECK(l > 0 && l <= PROTO_MAX_NAME);
		/* A valid name can never walk out of a directory. */
		if (proto_secret_name_valid(n))
			FUZZ_CHECK(strncmp(n, "../", 3) && !strstr(n, "/../") && strcmp(n, "..") &&
				   n[0] != '/');
	}
}

static void one_frame(const uint8_t *frame, uint32_t plen, bool agent_side)
{
	/* Exact-size copy so any over-read of the payload trips ASan. */
	uint8_t *pl = malloc(plen);
	struct proto_msg m;
	FUZZ_CHECK(pl);
	memcpy(pl, frame + PROTO_HDR, plen);
	if (proto_decode(pl, plen, &m) == 0) {
		if (agent_side)
			agent_side_checks(&m);
		else if (m.type == PROTO_SECRET || m.type == PROTO_SECRET2) /* value: the tail */
			FUZZ_CHECK(m.u.secret.value >= pl &&
				   m.u.secret.value_len <= PROTO_MAX_VALUE &&
				   (size_t)(m.u.secret.value - pl) + m.u.secret.value_len == plen);
		size_t cap = PROTO_HDR + (size_t)plen;
		uint8_t *out = malloc(cap);
		FUZZ_CHECK(out);
		ssize_t n = reencode(&m, out, cap);
		FUZZ_CHECK(n == (ssize_t)cap);
		if (m.type == PROTO_SECRET2) { /* a decoded env name is one we would set */
			FUZZ_CHECK(!m.u.secret.env[0] || proto_env_name_valid(m.u.secret.env));
			FUZZ_CHECK(!m.u.secret.env_file[0] ||
				   proto_env_name_valid(m.u.secret.env_file));
		}
		FUZZ_CHECK(memcmp(out, frame, cap) == 0);
		/* One byte short never fits. */
		FUZZ_CHECK(reencode(&m, out, cap - 1) == -ENOBUFS);
		free(out);
	}
	free(pl);
}

static void stream(const uint8_t *data, size_t size, uint32_t max, bool agent_side)
{
	size_t off = 0;
	for (int frames = 0; frames < 64 && off < size; frames++) {
		uint32_t plen = 0;
		int r = proto_frame_check(data + off, size - off, max, &plen);
		if (r == -EAGAIN || r == -EMSGSIZE)
			return;
		FUZZ_CHECK(r == 0 && plen > 0 && plen <= max);
		FUZZ_CHECK(size - off - PROTO_HDR >= plen);
		one_frame(data + off, plen, agent_side);
		off += PROTO_HDR + plen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size, PROTO_MAX_REQUEST, true);
	stream(data, size, PROTO_MAX_PAYLOAD, false);
	/* A raw payload without prefix, as a test harness would hand over. */
	struct proto_msg m;
	uint8_t *pl = malloc(size ? size : 1);
	FUZZ_CHECK(pl);
	if (size)
		memcpy(pl, data, size);
	(void)proto_decode(pl, size, &m);
	free(pl);
	return 0;
}
