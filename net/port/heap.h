/*
 * lwIP's heap (net/port/heap.c): a two-level segregated fit allocator,
 * constant time, over memory the boot gives it.  lwIP calls malloc, free
 * and calloc through MEM_LIBC_MALLOC's hooks (lwipopts.h).
 */
#ifndef NET_PORT_HEAP_H
#define NET_PORT_HEAP_H

#include <stddef.h>

/* The heap is [mem, mem + bytes): 0, or -1 when that is too small. */
int	limpet_heap_init(void *mem, size_t bytes);
/* What malloc(), calloc() and free() do, over that memory: blocks aligned
 * to 16 bytes, NULL when no free block is large enough. */
void	*limpet_heap_malloc(size_t n);
void	*limpet_heap_calloc(size_t count, size_t size);
void	limpet_heap_free(void *p);
/* Bytes in free blocks, and the heap's size (block headers included). */
size_t	limpet_heap_free_bytes(void);
size_t	limpet_heap_size(void);
/* Walk every block and list: 0 when the heap is consistent, else a
 * negative number saying what is not (for tests). */
int	limpet_heap_check(void);

#endif
