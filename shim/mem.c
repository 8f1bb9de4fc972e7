/* SPDX-License-Identifier: MIT */
/* Memory for the shim without malloc: whole anonymous pages from mmap. The
 * static binary links no allocator, and every buffer that can hold a value
 * (the receive buffer, the set's values, scratch for comparisons) comes from
 * mem_secret_alloc: MADV_DONTDUMP and mlock where the kernel allows (both
 * best effort: RLIMIT_MEMLOCK may be small in a container), wiped before
 * it is unmapped. The shim is also non-dumpable (main.c). */
#include "shim.h"

#include <string.h>
#include <sys/mman.h>

static size_t pages(size_t len)
{
	return (len + 4095u) & ~(size_t)4095u;
}

void *mem_alloc(size_t len)
{
	if (len == 0 || len > ((size_t)1 << 40))
		return NULL;
	void *p =
		mmap(NULL, pages(len), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void mem_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	(void)munmap(p, pages(len));
}

void *mem_secret_alloc(size_t len)
{
	void *p = mem_alloc(len);
	if (p) {
		(void)madvise(p, pages(len), MADV_DONTDUMP);
		(void)mlock(p, pages(len));
	}
	return p;
}

void mem_secret_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	(void)munlock(p, pages(len));
	(void)munmap(p, pages(len));
}
