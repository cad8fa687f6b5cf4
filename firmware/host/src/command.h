/* Signed commands on the board (docs/actions.md "On the board"): the host verifies a command token
 * (a downlink message, docs/message-format.md "Downlink") with the downlink key held in the HAL, keeps
 * the highest (ep, sq) it accepted in a persisted record, and hands the body to the module's command()
 * export, which answers with a signed cmd.ack uplink. Board-independent: platform work goes through hal.h. */
#ifndef FERRY_COMMAND_H
#define FERRY_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allowance for the board's clock against the cloud's when judging exp (DOWNLINK_LEEWAY_MS). */
#define COMMAND_LEEWAY_MS 30000

typedef enum {
    COMMAND_DELIVERED = 0,  /* the module took it and answered (acked or rejected) */
    COMMAND_DROPPED = 1,    /* it did not verify, or the module could not answer: counted, no answer */
} command_outcome_t;

/* Verifies and delivers one token. *reboot is set when the module asks to be rebooted (after its answer), or
 * trapped on it. */
command_outcome_t command_deliver(const uint8_t *token, size_t len, bool *reboot);

/* Tokens dropped since start (a board has no metrics endpoint; the INFO frame could carry it later). */
uint32_t command_dropped(void);

#endif /* FERRY_COMMAND_H */
