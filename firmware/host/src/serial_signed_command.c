/* SIGNED_COMMAND: a command token from the cloud, forwarded unchanged by the gateway (docs/serial-protocol.md).
 * The gateway cannot forge one (it has no downlink key), so the board verifies it (command.c) and answers
 * the gateway only that the token arrived: ACK outcome u8, 0 delivered to the module (its signed cmd.ack
 * went out first, as a MESSAGE frame), 1 dropped. Either way the gateway may forget the token. A module
 * that asked for a reboot, or trapped on the command, is rebooted after the ACK. */
#include "board.h"
#include "command.h"
#include "ferry_abi.h"
#include "hal.h"
#include "serial.h"

void serial_on_signed_command(const frame_t *f) {
    if (f->payload_len == 0 || f->payload_len > FERRY_LIMIT_EMIT_MAX) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "a command token is 1..%d bytes", FERRY_LIMIT_EMIT_MAX);
        return;
    }
    bool reboot = false;
    uint8_t outcome = (uint8_t)command_deliver(f->payload, f->payload_len, &reboot);
    serial_ack(f->seq, &outcome, 1);
    if (!reboot) return;
    char err[256];
    serial_upload_reset();
    if (!board_boot(err, sizeof err)) hal_log(HAL_LOG_ERROR, "reboot after a command: %s", err);
}
