/* SPDX-License-Identifier: MIT */
/* hangsock PATH: a unix socket that accepts every connection and never
 * answers (a hung container engine), until SIGTERM. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (argc != 2 || fd < 0 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		perror("hangsock");
		return 1;
	}
	for (;;) /* accepted connections are kept open, never read or written */
		if (accept4(fd, NULL, NULL, SOCK_CLOEXEC) < 0)
			sleep(1);
}
