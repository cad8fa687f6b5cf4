/* The board driver, board-independent: which module runs (factory or an uploaded A/B slot), the
 * persisted boot epoch, boot/tick calls, and the serial side (frames in, messages out). The posix main
 * loop (posix/board_posix.c) and the ESP-IDF app_main (firmware/esp32/main) both drive it. */
#ifndef FERRY_BOARD_H
#define FERRY_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

typedef struct {
    uint32_t stack_size; /* wasm operand/frame stack of the exec env, bytes */
    uint32_t max_pages;  /* linear memory cap in 64 KiB pages (0: the module's own maximum) */
    int32_t fuel;        /* instruction budget per call (<= 0: unlimited) */
    bool test_control;   /* accept FRAME_TEST (posix only) */
    bool virtual_clock;  /* reported in INFO flags */
} board_config_t;

/* A module that is loaded, checked and instantiated. */
typedef struct {
    ferry_module_t m;
    ferry_func_t abi_version, boot, tick;
    ferry_func_t command; /* optional export: signed commands (docs/actions.md "On the board") */
    bool has_command;
    uint8_t sha[32];
    uint32_t size;
    int slot;   /* -1: factory */
    bool live;  /* instantiated */
    bool dead;  /* trapped: must be re-instantiated (a new epoch) */
} board_app_t;

bool board_init(const board_config_t *cfg, char *err, size_t err_size);
void board_destroy(void);

/* (Re)boot: drops the running instance, picks the module (active slot, else factory), increments the
 * persisted epoch, instantiates and calls boot(epoch). */
bool board_boot(char *err, size_t err_size);
/* Drops the running instance (FERRY_VALIDATE_IN_PLACE uploads). */
void board_stop(void);
/* One control period. false on a trap (the instance is dead; err says why) or with no module. */
bool board_tick(int32_t *result, char *err, size_t err_size);
/* What abi_version() returns: the running instance's, else a throwaway instance's (never booted, so it
 * cannot emit and needs no epoch). */
bool board_abi_version(int32_t *version, char *err, size_t err_size);

/* Instantiates a module image (ownership passes) as a candidate: epoch + 1 first, then load, import
 * check, exports and abi_version. Does not call boot. */
bool board_candidate(uint8_t *binary, uint32_t size, int slot, board_app_t *out, char *err, size_t err_size);
/* Makes cand the running module and calls boot(epoch); on failure the previous module is restored
 * (re-instantiated: a new epoch) and false is returned. */
bool board_swap(board_app_t *cand, char *err, size_t err_size);

/* Delivers a verified command to the module (command.c): body is what cmd.read hands over during the
 * call, verdict a FERRY_VERDICT_*. false when no module runs, it has no command export, or it trapped. */
bool board_command(int32_t verdict, const uint8_t *body, size_t len, int32_t *result, char *err, size_t err_size);

const board_app_t *board_app(void);
const board_config_t *board_config(void);
uint32_t board_epoch(void);
/* The slot an upload should write: never the one running. */
int board_upload_slot(void);
/* Records slot as the module to boot (size and SHA-256 are checked again at boot). */
bool board_activate_slot(int slot, uint32_t size, const uint8_t sha[32]);

/* Messages the module has emitted since start (benchmarks). */
uint32_t board_messages_emitted(void);

/* Bytes from the serial line. */
void board_feed(const uint8_t *data, size_t len);
/* Called by the natives. */
void board_emit(const uint8_t *token, size_t len);
void board_module_log(int32_t level, const uint8_t *text, size_t len);

#endif /* FERRY_BOARD_H */
