/* SPDX-License-Identifier: MIT */
/* Unit tests for the pure parts of the etcd gateway client (keystore/etcd.c):
 * store URL parsing (endpoints, names, plain-http rule), int64-as-string
 * fields, key-value and watch replies from a hostile server, error codes,
 * base64 round trip and caps. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "etcd.h"

static json_t *J(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(url_good)
{
	struct etcd_url u;

	ck_assert_int_eq(
		etcd_url_parse("etcd://127.0.0.1:2379,h2.example:12379,[::1]:3/prod-1", false, &u),
		0);
	ck_assert_uint_eq(u.n, 3);
	ck_assert_str_eq(u.endpoints[0], "https://127.0.0.1:2379");
	ck_assert_str_eq(u.endpoints[1], "https://h2.example:12379");
	ck_assert_str_eq(u.endpoints[2], "https://[::1]:3");
	ck_assert_str_eq(u.name, "prod-1");
	ck_assert(!u.plain);
	etcd_url_clear(&u);
	ck_assert_int_eq(etcd_url_parse("etcd+http://localhost:2379/x", false, &u), 0);
	ck_assert_str_eq(u.endpoints[0], "http://localhost:2379");
	ck_assert(u.plain);
	etcd_url_clear(&u);
}
END_TEST

START_TEST(url_bad)
{
	static const char *const bad[] = {
		"etcd://127.0.0.1/x",
		"etcd://127.0.0.1:0/x",
		"etcd://127.0.0.1:65536/x",
		"etcd://127.0.0.1:2379",
		"etcd://127.0.0.1:2379/",
		"etcd://127.0.0.1:2379/a/b",
		"etcd://127.0.0.1:2379/..",
		"etcd://:2379/x",
		"etcd://127.0.0.1:2379,/x",
		"etcd://,127.0.0.1:2379/x",
		"etcd://ho st:1/x",
		"etcd://h:1x/x",
		"etcd://h@x:1/x",
		"etcd://127.0.0.1:2379/name-that-is-far-too-long-to-be-a-store-name-in-etcd-keys-xxxxxxxxxx",
		"etcd://h:1/x y",
		"etcd://[::1:2379/x",
	};
	struct etcd_url u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(etcd_url_parse(bad[i], true, &u) == -EINVAL, "%s", bad[i]);
	ck_assert_int_eq(etcd_url_parse("http://127.0.0.1:2379/x", true, &u), -EPROTONOSUPPORT);
	ck_assert_int_eq(
		etcd_url_parse(
			"etcd://"
			"a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1,a:1/x",
			false, &u),
		-E2BIG);
}
END_TEST

START_TEST(url_plain_http_rule)
{
	struct etcd_url u;

	ck_assert_int_eq(etcd_url_parse("etcd+http://10.0.0.1:2379/x", false, &u), -ENOPROTOOPT);
	ck_assert_int_eq(etcd_url_parse("etcd+http://127.0.0.1:1,10.0.0.1:2/x", false, &u),
			 -ENOPROTOOPT);
	ck_assert_int_eq(etcd_url_parse("etcd+http://127.evil.com:1/x", false, &u), -ENOPROTOOPT);
	ck_assert_int_eq(etcd_url_parse("etcd+http://10.0.0.1:2379/x", true, &u), 0);
	etcd_url_clear(&u);
	/* https never needs the insecure switch */
	ck_assert_int_eq(etcd_url_parse("etcd://10.0.0.1:2379/x", false, &u), 0);
	etcd_url_clear(&u);
	ck_assert(etcd_host_is_loopback("127.0.0.2", 9));
	ck_assert(!etcd_host_is_loopback("128.0.0.1", 9));
}
END_TEST

START_TEST(int64_fields)
{
	json_t *o = J("{\"a\":\"42\",\"b\":7,\"c\":\"-1\",\"d\":\"12x\",\"e\":\"\","
		      "\"f\":\"99999999999999999999\",\"g\":true,\"h\":-3}");
	int64_t v = 5;

	ck_assert_int_eq(etcd_int64(o, "a", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(etcd_int64(o, "b", &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(etcd_int64(o, "absent", &v), 0);
	ck_assert_int_eq(v, 0);
	for (const char *k = "cdefgh"; *k; k++) {
		char name[2] = { *k, 0 };
		ck_assert_msg(etcd_int64(o, name, &v) == -EBADMSG, "%s", name);
	}
	json_decref(o);
}
END_TEST

START_TEST(kv_parse)
{
	/* key "/k/records/db", value "{}" */
	json_t *ok =
		J("{\"key\":\"L2svcmVjb3Jkcy9kYg==\",\"value\":\"e30=\",\"mod_revision\":\"9\"}");
	struct etcd_kv kv;

	ck_assert_int_eq(etcd_kv_parse(ok, 100, &kv), 0);
	ck_assert_str_eq(kv.key, "/k/records/db");
	ck_assert_uint_eq(kv.value_len, 2);
	ck_assert_str_eq(kv.value, "{}");
	ck_assert_int_eq(kv.mod_revision, 9);
	etcd_kv_clear(&kv);
	ck_assert_int_eq(etcd_kv_parse(ok, 1, &kv), -EBADMSG); /* over the value cap */
	json_decref(ok);
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"key\":5,\"mod_revision\":\"1\"}",
		"{\"key\":\"!!!\",\"value\":\"e30=\",\"mod_revision\":\"1\"}",
		"{\"key\":\"YQ==\",\"value\":\"e30=\"}", /* rev 0 */
		"{\"key\":\"YQ==\",\"value\":7,\"mod_revision\":\"1\"}",
		"{\"key\":\"YQBi\",\"value\":\"e30=\",\"mod_revision\":\"1\"}", /* "a\0b" */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = J(bad[i]);
		ck_assert_msg(etcd_kv_parse(j, 100, &kv) < 0, "%s", bad[i]);
		json_decref(j);
	}
}
END_TEST

START_TEST(errors)
{
	static const struct {
		const char *j;
		int e;
	} t[] = {
		{ "{\"error\":\"etcdserver: mvcc: required revision has been compacted\",\"code\":11}",
		  -ERANGE },
		{ "{\"error\":\"x\",\"code\":7}", -EACCES },
		{ "{\"error\":\"x\",\"code\":16}", -EACCES },
		{ "{\"error\":\"etcdserver: no leader\",\"code\":14}", -EAGAIN },
		{ "{\"error\":\"x\",\"code\":3}", -EINVAL },
		{ "{\"error\":\"x\",\"code\":2}", -EIO },
		{ "{\"code\":\"nope\"}", -EIO },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *j = J(t[i].j);
		ck_assert_msg(etcd_error_errno(j) == t[i].e, "%s", t[i].j);
		json_decref(j);
	}
}
END_TEST

START_TEST(watch_msgs)
{
	struct etcd_watch_msg m;
	json_t *j;

	j = J("{\"result\":{\"header\":{\"revision\":\"7\"},\"created\":true}}");
	ck_assert_int_eq(etcd_watch_parse(j, &m), 0);
	ck_assert(m.created && !m.canceled && m.n_events == 0 && m.header_rev == 7);
	json_decref(j);
	j = J("{\"result\":{\"header\":{\"revision\":\"12\"},\"events\":["
	      "{\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"11\"}},"
	      "{\"type\":\"DELETE\",\"kv\":{\"key\":\"Yg==\",\"mod_revision\":\"12\"}}]}}");
	ck_assert_int_eq(etcd_watch_parse(j, &m), 0);
	ck_assert_uint_eq(m.n_events, 2);
	ck_assert_int_eq(m.last_event_rev, 12);
	json_decref(j);
	j = J("{\"result\":{\"header\":{\"revision\":\"40\"},\"canceled\":true,"
	      "\"compact_revision\":\"30\"}}");
	ck_assert_int_eq(etcd_watch_parse(j, &m), 0);
	ck_assert(m.canceled);
	ck_assert_int_eq(m.compact_revision, 30);
	json_decref(j);
	static const char *const bad[] = {
		"{}",
		"{\"result\":[]}",
		"{\"result\":{\"events\":{}}}",
		"{\"result\":{\"events\":[{\"kv\":{\"mod_revision\":\"x\"}}]}}",
		"{\"result\":{\"header\":{\"revision\":\"-4\"}}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = J(bad[i]);
		ck_assert_msg(etcd_watch_parse(j, &m) < 0, "%s", bad[i]);
		json_decref(j);
	}
	j = J("{\"error\":{\"grpc_code\":14}}");
	ck_assert_int_lt(etcd_watch_parse(j, &m), 0);
	json_decref(j);
}
END_TEST

START_TEST(base64)
{
	static const char bin[] = "a\0b/\xff";
	char *s = etcd_b64(bin, sizeof(bin) - 1), *back = NULL;
	size_t n = 0;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(etcd_unb64(s, 64, &back, &n), 0);
	ck_assert_uint_eq(n, sizeof(bin) - 1);
	ck_assert_mem_eq(back, bin, n);
	free(back);
	ck_assert_int_eq(etcd_unb64(s, 2, &back, &n), -EFBIG);
	ck_assert_int_eq(etcd_unb64("not base64!", 64, &back, &n), -EBADMSG);
	free(s);
}
END_TEST

/* Record names with '/' (payments/db) are one key segment in etcd. */
START_TEST(name_segments)
{
	static const char *const names[] = { "payments/db", "a/b/c", "plain", "A.b-c_d/e.f" };
	static const char *const segs[] = { "payments%2Fdb", "a%2Fb%2Fc", "plain",
					    "A.b-c_d%2Fe.f" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *seg = etcd_name_to_seg(names[i]), *back;
		ck_assert_str_eq(seg, segs[i]);
		ck_assert_ptr_null(strchr(seg, '/'));
		back = etcd_seg_to_name(seg);
		ck_assert_str_eq(back, names[i]);
		free(seg);
		free(back);
	}
	/* a foreign '%' survives decoding, for the name validator to refuse */
	char *odd = etcd_seg_to_name("a%2");
	ck_assert_str_eq(odd, "a%2");
	free(odd);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("etcd_parse");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, url_good);
	tcase_add_test(tc, url_bad);
	tcase_add_test(tc, url_plain_http_rule);
	tcase_add_test(tc, int64_fields);
	tcase_add_test(tc, kv_parse);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, watch_msgs);
	tcase_add_test(tc, base64);
	tcase_add_test(tc, name_segments);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(make_suite)
