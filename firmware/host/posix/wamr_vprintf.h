/* Force-included into WAMR's own sources (posix/CMakeLists.txt): WAMR's Linux platform prints through
 * BH_VPRINTF when it is defined, else vprintf to stdout. We route it to stderr (hal_posix.c). */
#ifndef FERRY_WAMR_VPRINTF_H
#define FERRY_WAMR_VPRINTF_H

#include <stdarg.h>

int ferry_wamr_vprintf(const char *format, va_list ap);
#define BH_VPRINTF ferry_wamr_vprintf

#endif
