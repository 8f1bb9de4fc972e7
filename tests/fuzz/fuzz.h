/* SPDX-License-Identifier: MIT */
/* Entry point every fuzz harness defines. libFuzzer calls it with untrusted
 * bytes; replay_main.c calls it with each saved corpus file so `make test`
 * re-runs every input under plain gcc (and under ASan in check-asan). */
#ifndef KH_FUZZ_H
#define KH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A harness found a broken property: abort so both libFuzzer and the replay
 * runner report it (assert() would vanish under NDEBUG). */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond);                                      \
	} while (0)

__attribute__((noreturn)) static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
	abort();
}

#endif
