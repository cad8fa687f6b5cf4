/* The posix board's simulated hardware (sim_posix.c), configured from the command line. */
#ifndef FERRY_SIM_POSIX_H
#define FERRY_SIM_POSIX_H

#include <stdbool.h>
#include <stdint.h>

/* firmware/emulator/room.ts RoomParams; defaults are DEFAULT_ROOM. */
typedef struct {
    double initial_c, outside_c, loss_per_s, heat_c_per_s, noise_c;
} sim_room_params_t;

typedef struct {
    bool virtual_clock;
    int64_t start_ms; /* virtual wall clock at power-on (default 2026-01-01T00:00:00Z) */
    uint32_t seed;
    sim_room_params_t room;
    char device_id[33];
} sim_config_t;

void sim_defaults(sim_config_t *c);
void sim_configure(const sim_config_t *c);
/* Reads the device key: a file of 64+ hex digits (whitespace ignored) or of >= 32 raw bytes. */
bool sim_load_key(const char *path, char *err, unsigned err_size);
/* Sets the key directly (the benchmark). */
void sim_set_key(const uint8_t *k, unsigned len);
/* Real-time mode: the room follows the wall clock between ticks. */
void sim_realtime_step(uint32_t elapsed_ms);

#endif /* FERRY_SIM_POSIX_H */
