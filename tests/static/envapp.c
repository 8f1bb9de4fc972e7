/* SPDX-License-Identifier: MIT */
/* A tiny static app for the env / env_file delivery tests: an app that only
 * knows environment variables, like a vendor image.
 *   envapp var NAME             print "NAME=<value>" (or "NAME unset")
 *   envapp file NAME            print the contents of the file named by $NAME
 *   envapp wait OUT NAME        append "start NAME=<value>" to OUT ("-" =
 *                               stdout), then wait; SIGTERM appends "TERM"
 *                               and exits 143 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_out;

static void put(const char *out, const char *line)
{
	int fd = strcmp(out, "-") ? open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : 1;
	if (fd < 0)
		return;
	(void)!write(fd, line, strlen(line));
	if (fd != 1)
		close(fd);
}

static void on_term(int s)
{
	(void)s;
	put(g_out, "TERM\n");
	_exit(143);
}

static int show_var(const char *name, char *line, size_t cap)
{
	const char *v = getenv(name);
	if (v)
		snprintf(line, cap, "%s=%s\n", name, v);
	else
		snprintf(line, cap, "%s unset\n", name);
	return v ? 0 : 1;
}

static int show_file(const char *name)
{
	char buf[4096];
	const char *path = getenv(name);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		printf("cannot read the file named by %s (%s)\n", name, path ? path : "unset");
		return 1;
	}
	buf[n] = '\0';
	printf("%s\n", buf);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char line[8192];
	if (argc == 3 && !strcmp(argv[1], "var")) {
		int r = show_var(argv[2], line, sizeof line);
		fputs(line, stdout);
		return r;
	}
	if (argc == 3 && !strcmp(argv[1], "file"))
		return show_file(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "wait")) {
		g_out = argv[2];
		signal(SIGTERM, on_term);
		show_var(argv[3], line + 6, sizeof line - 6);
		memcpy(line, "start ", 6);
		put(g_out, line);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: envapp var NAME | file NAME | wait OUT NAME\n");
	return 2;
}
