/* Module storage for the posix board (src/hal.h): the factory module is a file named on the command
 * line; slot N is $FERRY_STATE_DIR/slot-N.wasm, written as slot-N.wasm.part and renamed over the old
 * content only when complete and fsync'ed (rename(2) is atomic: a reader, or a reboot after kill -9,
 * sees the old file or the new one, never a torn one). The directory is fsync'ed after the rename so
 * the new name is durable too. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal.h"
#include "store_posix.h"

#define SLOT_CAPACITY (1024u * 1024u)

static const char *factory_path;
static int part_fd = -1;
static int part_slot = -1;

void store_set_factory(const char *path) { factory_path = path; }

uint32_t hal_slot_capacity(void) { return SLOT_CAPACITY; }

static const char *state_dir(void) {
    const char *dir = getenv("FERRY_STATE_DIR");
    return dir && *dir ? dir : "ferry-state";
}

static bool slot_path(int slot, const char *suffix, char *out, size_t size) {
    if (slot < 0 || slot >= HAL_SLOT_COUNT) return false;
    if (mkdir(state_dir(), 0700) != 0 && errno != EEXIST) return false;
    return (size_t)snprintf(out, size, "%s/slot-%d.wasm%s", state_dir(), slot, suffix) < size;
}

bool hal_factory_module(uint8_t **data, uint32_t *size) {
    char err[256];
    if (!factory_path) return false;
    if (hal_read_file(factory_path, data, size, err, sizeof err)) return true;
    hal_log(HAL_LOG_ERROR, "factory module: %s", err);
    return false;
}

bool hal_slot_open(int slot, uint32_t size) {
    char path[4096];
    if (part_fd >= 0 || size > SLOT_CAPACITY || !slot_path(slot, ".part", path, sizeof path)) return false;
    part_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (part_fd < 0) return false;
    part_slot = slot;
    return true;
}

bool hal_slot_write(int slot, uint32_t offset, const uint8_t *data, uint32_t len) {
    if (part_fd < 0 || slot != part_slot) return false;
    while (len > 0) {
        ssize_t n = pwrite(part_fd, data, len, (off_t)offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        offset += (uint32_t)n;
        len -= (uint32_t)n;
    }
    return true;
}

bool hal_slot_close(int slot, bool keep) {
    char part[4096], path[4096];
    if (part_fd < 0 || slot != part_slot || !slot_path(slot, ".part", part, sizeof part) || !slot_path(slot, "", path, sizeof path))
        return false;
    bool ok = !keep || fsync(part_fd) == 0;
    ok = close(part_fd) == 0 && ok;
    part_fd = -1;
    part_slot = -1;
    if (!keep || !ok) {
        unlink(part);
        return !keep;
    }
    if (rename(part, path) != 0) return false;
    int dfd = open(state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

bool hal_slot_read(int slot, uint32_t size, uint8_t **data) {
    char path[4096], err[256];
    uint32_t got;
    if (!slot_path(slot, "", path, sizeof path) || !hal_read_file(path, data, &got, err, sizeof err)) return false;
    if (got != size) {
        hal_free_file(*data);
        return false;
    }
    return true;
}
