/* SPDX-License-Identifier: MIT */
/* The private key at rest outside the store: a root-only key file holding
 * "keyhole-key-v1 <base64>\n", refused when group or others may read it;
 * and passphrases (for the in-store Argon2id-wrapped key) from an fd or the
 * tty with echo off, never argv or environment. Both land in sodium_malloc
 * memory and are wiped. */
#include "ks_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "io.h"

#define KEY_TAG "keyhole-key-v1 "
#define KEY_LINE_MAX 128u

int ks_keyfile_write(const char *path, const uint8_t *sk)
{
	return ks_keyfile_write_tagged(path, KEY_TAG, sk, KS_SK_BYTES);
}

int ks_keyfile_write_tagged(const char *path, const char *tag_text, const uint8_t *sk,
			    size_t sk_len)
{
	char *line = sodium_malloc(KEY_LINE_MAX);
	size_t tag = strlen(tag_text), n;
	int r;

	if (!line)
		return -ENOMEM;
	memcpy(line, tag_text, tag);
	sodium_bin2base64(line + tag, KEY_LINE_MAX - tag - 1, sk, sk_len,
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(line);
	line[n++] = '\n';
	r = ks_create_file(path, line, n, 0400);
	sodium_free(line);
	return r;
}

/* Reads at most cap bytes from fd into buf (sodium memory); *ret_len. */
static int read_capped(int fd, char *buf, size_t cap, size_t *ret_len)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = io_read_some(fd, buf + have, cap - have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == cap)
			return -EBADMSG;
	}
	*ret_len = have;
	return 0;
}

int ks_keyfile_read(const char *path, uint8_t *sk)
{
	return ks_keyfile_read_tagged(path, KEY_TAG, sk, KS_SK_BYTES);
}

int ks_keyfile_read_tagged(const char *path, const char *tag_text, uint8_t *sk, size_t sk_len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t tag = strlen(tag_text), len = 0, n = 0;
	const char *end = NULL;
	struct stat st;
	char *line;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_mode & 0077)
		return -EPERM;
	line = sodium_malloc(KEY_LINE_MAX);
	if (!line)
		return -ENOMEM;
	r = read_capped(fd, line, KEY_LINE_MAX, &len);
	if (r == 0 && (len < tag + 1 || memcmp(line, tag_text, tag) != 0 || line[len - 1] != '\n'))
		r = -EBADMSG;
	if (r == 0 && (sodium_base642bin(sk, sk_len, line + tag, len - tag - 1, NULL, &n, &end,
					 sodium_base64_VARIANT_ORIGINAL) != 0 ||
		       n != sk_len || end != line + len - 1))
		r = -EBADMSG;
	sodium_free(line);
	return r;
}

/* One line from fd, newline stripped. */
static int read_line(int fd, char *buf, size_t cap, size_t *ret_len)
{
	size_t have = 0;

	while (have < cap) {
		ssize_t n = io_read_some(fd, buf + have, 1);
		if (n < 0)
			return (int)n;
		if (n == 0 || buf[have] == '\n')
			break;
		have++;
	}
	if (have == cap)
		return -EFBIG;
	buf[have] = '\0';
	*ret_len = have;
	return 0;
}

static int tty_line(int tty, const char *prompt, char *buf, size_t cap, size_t *ret_len)
{
	struct termios old, quiet;
	int r;

	if (tcgetattr(tty, &old) < 0)
		return -errno;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	(void)io_write_all(tty, prompt, strlen(prompt));
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
		return -errno;
	r = read_line(tty, buf, cap, ret_len);
	(void)tcsetattr(tty, TCSAFLUSH, &old);
	(void)io_write_all(tty, "\n", 1);
	return r;
}

static int tty_passphrase(bool confirm, char *buf, size_t cap, size_t *ret_len)
{
	cleanup_close int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	char *again;
	size_t n2 = 0;
	int r;

	if (tty < 0)
		return -ENOTTY;
	r = tty_line(tty, "keyhole passphrase: ", buf, cap, ret_len);
	if (r < 0 || !confirm)
		return r;
	again = sodium_malloc(cap);
	if (!again)
		return -ENOMEM;
	r = tty_line(tty, "keyhole passphrase (again): ", again, cap, &n2);
	if (r == 0 && (n2 != *ret_len || sodium_memcmp(again, buf, n2) != 0))
		r = -EACCES;
	sodium_free(again);
	return r;
}

int ks_passphrase_read(int fd, bool confirm, char **ret, size_t *ret_len)
{
	char *buf = sodium_malloc(KS_MAX_PASSPHRASE + 1);
	size_t n = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	r = fd >= 0 ? read_line(fd, buf, KS_MAX_PASSPHRASE + 1, &n)
		    : tty_passphrase(confirm, buf, KS_MAX_PASSPHRASE + 1, &n);
	if (r == 0 && n == 0)
		r = -EINVAL;
	if (r < 0) {
		sodium_free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}
