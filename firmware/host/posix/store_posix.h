#ifndef FERRY_STORE_POSIX_H
#define FERRY_STORE_POSIX_H
/* The factory module: run when no uploaded slot is active (--module PATH). */
void store_set_factory(const char *path);
#endif
