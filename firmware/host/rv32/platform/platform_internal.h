/* WAMR's platform types for the rv32 board (bare metal: one thread, no MMU, no file system). WAMR's
 * core/shared/platform/include/platform_api_vmcore.h declares what platform_rv32.c implements; the
 * types below exist only so platform_api_extension.h compiles (threads, files and sockets are off). */
#ifndef _PLATFORM_INTERNAL_H
#define _PLATFORM_INTERNAL_H

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BH_PLATFORM_FERRY_RV32
#define BH_PLATFORM_FERRY_RV32
#endif

#define BH_APPLET_PRESERVED_STACK_SIZE (2 * BH_KB)
#define BH_THREAD_DEFAULT_PRIORITY 0

typedef int korp_tid;
typedef int korp_mutex;
typedef int korp_sem;
typedef int korp_thread;
typedef struct { int dummy; } korp_cond;
typedef struct { int dummy; } korp_rwlock;

typedef int os_file_handle;
typedef void *os_dir_stream;
typedef int os_raw_file_handle;
typedef int os_poll_file_handle;
typedef unsigned int os_nfds_t;
typedef int os_timespec;

static inline os_file_handle os_get_invalid_handle(void) { return -1; }

/* No MMU: WAMR only uses this to round sizes. */
static inline int os_getpagesize(void) { return 4096; }

#endif /* _PLATFORM_INTERNAL_H */
