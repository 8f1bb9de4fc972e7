/* SPDX-License-Identifier: MIT */
/* env_file and env delivery (issue 19): the protocol 2 SECRET2 message
 * (round trip, every truncation, delivery rules, hostile bytes), the
 * environment-name validator and its deny list, the v1/v2 REQUEST
 * versions, policy parsing of "env"/"env_file" (valid, bad names,
 * duplicates in a rule and across rules), and the shim side: a batch with a
 * NUL in an env value is refused like a DENIED, two entries setting one
 * variable are a protocol violation, and the envp the app gets. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "policy.h"
#include "proto.h"
#include "shim.h"

static uint8_t buf[PROTO_HDR + PROTO_MAX_PAYLOAD + 16];

static struct proto_secret sample2(int i)
{
	struct proto_secret m = { .version = 9, .mode = 0440 };
	static const uint8_t val[] = { 'p', '@', ':', '/', '"' };
	m.value = val;
	m.value_len = sizeof val;
	strcpy(m.name, "pay/db");
	switch (i) {
	case 0: /* env_file */
		m.delivery = PROTO_D_FILE | PROTO_D_ENV_FILE;
		strcpy(m.file, "db_password");
		strcpy(m.env_file, "POSTGRES_PASSWORD_FILE");
		break;
	case 1: /* env only: no file */
		m.delivery = PROTO_D_ENV;
		strcpy(m.env, "DATABASE_PASSWORD");
		break;
	case 2: /* file only, as v2 */
		m.delivery = PROTO_D_FILE;
		strcpy(m.file, "db");
		break;
	default: /* all three */
		m.delivery = PROTO_D_ALL;
		strcpy(m.file, "db");
		strcpy(m.env, "DB_PASSWORD");
		strcpy(m.env_file, "DB_PASSWORD_FILE");
		break;
	}
	return m;
}
#define N_SAMPLES2 4

START_TEST(secret2_round_trip)
{
	struct proto_secret in = sample2(_i);
	struct proto_msg m;
	struct proto_reply r;
	ssize_t n = proto_encode_secret2(buf, sizeof buf, &in);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n,
			  proto_secret2_frame_size(strlen(in.name), strlen(in.file), strlen(in.env),
						   strlen(in.env_file), in.value_len));
	ck_assert_int_eq(buf[PROTO_HDR], PROTO_SECRET2);
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &m), 0);
	ck_assert_int_eq(m.type, PROTO_SECRET2);
	ck_assert_str_eq(m.u.secret.name, in.name);
	ck_assert_str_eq(m.u.secret.file, in.file);
	ck_assert_str_eq(m.u.secret.env, in.env);
	ck_assert_str_eq(m.u.secret.env_file, in.env_file);
	ck_assert_uint_eq(m.u.secret.delivery, in.delivery);
	ck_assert_uint_eq(m.u.secret.mode, 0440);
	ck_assert_uint_eq(m.u.secret.version, 9);
	ck_assert_uint_eq(m.u.secret.value_len, 5);
	ck_assert_mem_eq(m.u.secret.value, "p@:/\"", 5);
	/* the shim's decoder takes it too */
	ck_assert_int_eq(proto_decode_reply(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &r), 0);
	ck_assert_int_eq(r.type, PROTO_SECRET2);
	/* every truncation and any trailing byte are refused */
	for (size_t k = 1; k < (size_t)n - PROTO_HDR; k++)
		ck_assert_int_eq(proto_decode(buf + PROTO_HDR, k, &m), -EBADMSG);
	buf[n] = 0;
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, (size_t)n - PROTO_HDR + 1, &m), -EBADMSG);
	/* one byte short of room */
	ck_assert_int_eq(proto_encode_secret2(buf, (size_t)n - 1, &in), -ENOBUFS);
}
END_TEST

START_TEST(v1_secret_decodes_as_file)
{
	struct proto_msg m;
	ssize_t n =
		proto_encode_secret(buf, sizeof buf, "a", 1, "f", 0400, (const uint8_t *)"v", 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(proto_decode(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &m), 0);
	ck_assert_uint_eq(m.u.secret.delivery, PROTO_D_FILE);
	ck_assert_str_eq(m.u.secret.env, "");
}
END_TEST

/* Each broken delivery: the encoder refuses it. */
START_TEST(secret2_encoder_rules)
{
	struct proto_secret m = sample2(3);
	m.delivery = 0; /* neither file nor env */
	m.file[0] = m.env[0] = m.env_file[0] = '\0';
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(0);
	m.delivery = PROTO_D_ENV_FILE; /* env_file without a file */
	m.file[0] = '\0';
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(1);
	m.delivery |= 0x80; /* unknown bit */
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(1);
	m.env[0] = '\0'; /* ENV bit, empty name */
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(2);
	strcpy(m.env, "X"); /* a name without its bit */
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(1);
	strcpy(m.env, "LD_PRELOAD"); /* denied name */
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
	m = sample2(3);
	strcpy(m.env_file, m.env); /* one name twice */
	ck_assert_int_eq(proto_encode_secret2(buf, sizeof buf, &m), -EINVAL);
}
END_TEST

/* Hand-made frames: what a hostile agent could send. Layout after the
 * type: str name, u64 version, u8 delivery, str file, u16 mode, str env,
 * str env_file, blob value. */
static size_t hostile(uint8_t *p, uint8_t delivery, const char *file, const char *env,
		      const char *env_file)
{
	size_t k = 0;
	p[k++] = PROTO_SECRET2;
	p[k++] = 0, p[k++] = 1, p[k++] = 'a';
	memset(p + k, 0, 8), p[k + 7] = 1, k += 8;
	p[k++] = delivery;
	const char *s[3] = { file, env, env_file };
	for (int i = 0; i < 3; i++) {
		size_t l = strlen(s[i]);
		p[k++] = (uint8_t)(l >> 8), p[k++] = (uint8_t)l;
		memcpy(p + k, s[i], l), k += l;
		if (i == 0)
			p[k++] = 0x01, p[k++] = 0x00; /* mode 0400 */
	}
	memcpy(p + k, "\0\0\0\1v", 5);
	return k + 5;
}

START_TEST(secret2_decoder_hostile)
{
	struct proto_reply r;
	uint8_t p[1024];
	size_t n = hostile(p, PROTO_D_ENV, "", "X", "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), 0); /* the control case */
	n = hostile(p, PROTO_D_ENV, "", "LD_PRELOAD", "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	n = hostile(p, PROTO_D_ENV, "", "A=B", "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	n = hostile(p, PROTO_D_ENV_FILE, "", "", "PATH_X");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	n = hostile(p, PROTO_D_FILE | PROTO_D_ENV_FILE, "f", "", "PATH");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	n = hostile(p, PROTO_D_FILE, "", "", "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	n = hostile(p, 0x08 | PROTO_D_FILE, "f", "", "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	char longname[PROTO_MAX_ENV_NAME + 2];
	memset(longname, 'A', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	n = hostile(p, PROTO_D_ENV, "", longname, "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), -EBADMSG);
	longname[PROTO_MAX_ENV_NAME] = '\0';
	n = hostile(p, PROTO_D_ENV, "", longname, "");
	ck_assert_int_eq(proto_decode_reply(p, n, &r), 0);
}
END_TEST

START_TEST(request_versions)
{
	struct proto_request rq;
	const char *names[] = { "a" };
	ssize_t n = proto_encode_request_v(buf, sizeof buf, 1, 0, names, 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(proto_decode_request(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &rq), 0);
	ck_assert_uint_eq(rq.version, 1);
	n = proto_encode_request(buf, sizeof buf, 0, names, 1);
	ck_assert_int_eq(proto_decode_request(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &rq), 0);
	ck_assert_uint_eq(rq.version, 2);
	ck_assert_uint_eq(PROTO_VERSION, 2);
	buf[PROTO_HDR + 2] = 3;
	ck_assert_int_eq(proto_decode_request(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &rq),
			 -EPROTONOSUPPORT);
	buf[PROTO_HDR + 2] = 0;
	ck_assert_int_eq(proto_decode_request(buf + PROTO_HDR, (size_t)n - PROTO_HDR, &rq),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(proto_encode_request_v(buf, sizeof buf, 3, 0, names, 1), -EINVAL);
	ck_assert_int_eq(proto_encode_request_v(buf, sizeof buf, 0, 0, names, 1), -EINVAL);
}
END_TEST

START_TEST(env_name_validator)
{
	char why[160];
	static const char *const ok[] = { "DATABASE_PASSWORD",	    "_x",    "a1",
					  "POSTGRES_PASSWORD_FILE", "PATHS", "LD",
					  "MY_LD_PRELOAD",	    NULL };
	static const char *const bad[] = { "",
					   "1A",
					   "A-B",
					   "A=B",
					   "A B",
					   "LD_PRELOAD",
					   "LD_LIBRARY_PATH",
					   "LD_AUDIT",
					   "PATH",
					   "HOME",
					   "KEYHOLE_DIR",
					   "BASH_ENV",
					   "NODE_OPTIONS",
					   "GLIBC_TUNABLES",
					   "DYLD_INSERT_LIBRARIES",
					   NULL };
	for (size_t i = 0; ok[i]; i++)
		ck_assert_msg(proto_env_name_valid(ok[i]), "%s refused", ok[i]);
	for (size_t i = 0; bad[i]; i++) {
		ck_assert_msg(!proto_env_name_valid(bad[i]), "%s accepted", bad[i]);
		ck_assert_ptr_nonnull(proto_env_name_problem(bad[i], why, sizeof why));
	}
	ck_assert(!proto_env_name_valid(NULL));
	ck_assert_ptr_nonnull(
		strstr(proto_env_name_problem("LD_PRELOAD", why, sizeof why), "LD_*"));
}
END_TEST

/* ---- policy ---- */

static struct policy *P;
static char err[512];

static int parse(const char *j)
{
	policy_free(P);
	P = NULL;
	return policy_parse(j, strlen(j), &P, err, sizeof(err));
}

#define POL1(g) "{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[" g "]}]}"
#define POL2(g, h)                                                                                 \
	"{\"version\":1,\"rules\":[{\"name\":\"r\",\"grant\":[" g "]},{\"name\":\"s\","            \
	"\"grant\":[" h "]}]}"

START_TEST(policy_env_valid)
{
	ck_assert_int_eq(parse(POL1("{\"secret\":\"pay/db\",\"file\":\"db_password\","
				    "\"env_file\":\"POSTGRES_PASSWORD_FILE\"},"
				    "{\"secret\":\"pay/api\",\"env\":\"API_KEY\"},"
				    "{\"secret\":\"pay/tok\",\"file\":\"tok\",\"env\":\"TOKEN\"},"
				    "{\"secret\":\"pay/x\",\"env_file\":\"X_FILE\"}")),
			 0);
	const struct policy_grant *g = P->rules[0].grants;
	ck_assert_uint_eq(g[0].delivery, PROTO_D_FILE | PROTO_D_ENV_FILE);
	ck_assert_str_eq(g[0].env_file, "POSTGRES_PASSWORD_FILE");
	ck_assert_ptr_null(g[0].env);
	ck_assert_uint_eq(g[1].delivery, PROTO_D_ENV); /* env, no "file": no file */
	ck_assert_str_eq(g[1].env, "API_KEY");
	ck_assert_uint_eq(g[2].delivery, PROTO_D_FILE | PROTO_D_ENV);
	ck_assert_uint_eq(g[3].delivery, PROTO_D_FILE | PROTO_D_ENV_FILE); /* default file */
	ck_assert_str_eq(g[3].file, "pay_x");
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\"}")), 0);
	ck_assert_uint_eq(P->rules[0].grants[0].delivery, PROTO_D_FILE);
	/* the same delivery in two rules is fine */
	ck_assert_int_eq(
		parse(POL2("{\"secret\":\"a\",\"env\":\"A\"}", "{\"secret\":\"a\",\"env\":\"A\"}")),
		0);
}
END_TEST

START_TEST(policy_env_invalid)
{
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"LD_PRELOAD\"}")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "grant[0].env: variable name 'LD_PRELOAD'"));
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env_file\":\"LD_PRELOAD\"}")), -EINVAL);
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"PATH\"}")), -EINVAL);
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"9A\"}")), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "[A-Za-z_][A-Za-z0-9_]*"));
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"A=B\"}")), -EINVAL);
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"\"}")), -EINVAL);
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":7}")), -EINVAL);
	ck_assert_int_eq(
		parse(POL1("{\"secret\":\"a\",\"env\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}")),
		-EINVAL);
	/* env_file with env but no file: there is no file to point at */
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"A\",\"env_file\":\"A_FILE\"}")),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "env_file: needs a file"));
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"file\":\"a\",\"env\":\"A\","
				    "\"env_file\":\"A\"}")),
			 -EINVAL);
}
END_TEST

START_TEST(policy_env_duplicates)
{
	/* two grants of one rule setting one variable */
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env\":\"X\"},"
				    "{\"secret\":\"b\",\"env\":\"X\"}")),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "variable 'X' set by two grants"));
	ck_assert_int_eq(parse(POL1("{\"secret\":\"a\",\"env_file\":\"X\"},"
				    "{\"secret\":\"b\",\"env\":\"X\"}")),
			 -EINVAL);
	/* across rules: a caller matching both would get two values */
	ck_assert_int_eq(
		parse(POL2("{\"secret\":\"a\",\"env\":\"X\"}", "{\"secret\":\"b\",\"env\":\"X\"}")),
		-EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "variable 'X' set by two grants"));
	/* one secret delivered two ways in two rules */
	ck_assert_int_eq(parse(POL2("{\"secret\":\"a\",\"env\":\"X\"}", "{\"secret\":\"a\"}")),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "one delivery per secret"));
}
END_TEST

/* ---- shim ---- */

static size_t add_secret2(uint8_t *b, size_t len, const struct proto_secret *m)
{
	ssize_t n = proto_encode_secret2(b + len, sizeof buf - len, m);
	ck_assert_int_gt(n, 0);
	return len + (size_t)n;
}

START_TEST(shim_batch_env)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t len = 0, used = 0;
	struct proto_secret m = sample2(1);
	memset(&o, 0, sizeof o);
	memset(&b, 0, sizeof b);
	len = add_secret2(buf, len, &m);
	m = sample2(0);
	strcpy(m.name, "pay/other");
	len = add_secret2(buf, len, &m);
	m = sample2(1);
	strcpy(m.name, "pay/nul");
	strcpy(m.env, "NUL_VALUE");
	m.value = (const uint8_t *)"a\0b";
	m.value_len = 3;
	len = add_secret2(buf, len, &m);
	len += (size_t)proto_encode_end(buf + len, sizeof buf - len, 3);
	ck_assert_int_eq(batch_feed(buf, len, &o, &set, &b, &used), 1);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_uint_eq(b.n_denied, 1); /* the NUL value: refused, not delivered */
	ck_assert_str_eq(b.denied[0].name, "pay/nul");
	ck_assert_ptr_nonnull(strstr(b.denied[0].reason, "NUL byte"));
	ck_assert_ptr_null(set_find(&set, "pay/nul"));
	ck_assert_str_eq(set_find(&set, "pay/db")->file, "");
	/* env values are kept for a restart; file-only values are dropped */
	set_drop_values(&set);
	ck_assert(!set_find(&set, "pay/db")->on_disk);
	ck_assert(set_find(&set, "pay/other")->on_disk);
	ck_assert(set_has_env(&set));

	size_t bytes = 0;
	char e0[] = "A=1", e1[] = "DATABASE_PASSWORD=from-image", e2[] = "KEYHOLE_DIR=/x",
	     e3[] = "POSTGRES_PASSWORD_FILE=/etc/old";
	char *in[] = { e0, e1, e2, e3, NULL };
	char **env = exec_make_env(in, "/run/secrets", &set, &bytes);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env[0], "A=1");
	ck_assert_str_eq(env[1], "KEYHOLE_DIR=/run/secrets");
	ck_assert_str_eq(env[2], "DATABASE_PASSWORD=p@:/\"");
	ck_assert_str_eq(env[3], "POSTGRES_PASSWORD_FILE=/run/secrets/db_password");
	ck_assert_ptr_null(env[4]);
	mem_secret_free(env, bytes);
	set_free(&set);
	batch_free(&b);
}
END_TEST

START_TEST(shim_batch_env_conflict)
{
	struct shim_opts o;
	struct shim_set set = { NULL, 0 };
	struct batch b;
	size_t len = 0, used = 0;
	struct proto_secret m = sample2(1);
	memset(&o, 0, sizeof o);
	memset(&b, 0, sizeof b);
	len = add_secret2(buf, len, &m);
	strcpy(m.name, "pay/two"); /* same variable, another secret */
	len = add_secret2(buf, len, &m);
	len += (size_t)proto_encode_end(buf + len, sizeof buf - len, 2);
	ck_assert_int_eq(batch_feed(buf, len, &o, &set, &b, &used), -EBADMSG);
	set_free(&set);
	batch_free(&b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("env_delivery");
	TCase *tc = tcase_create("proto");
	tcase_add_loop_test(tc, secret2_round_trip, 0, N_SAMPLES2);
	tcase_add_test(tc, v1_secret_decodes_as_file);
	tcase_add_test(tc, secret2_encoder_rules);
	tcase_add_test(tc, secret2_decoder_hostile);
	tcase_add_test(tc, request_versions);
	tcase_add_test(tc, env_name_validator);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_test(tc, policy_env_valid);
	tcase_add_test(tc, policy_env_invalid);
	tcase_add_test(tc, policy_env_duplicates);
	suite_add_tcase(s, tc);
	tc = tcase_create("shim");
	tcase_add_test(tc, shim_batch_env);
	tcase_add_test(tc, shim_batch_env_conflict);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
