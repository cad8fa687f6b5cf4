# The board-independent sources of the Ferry host, relative to firmware/host. Every board compiles
# this one list: the posix board (CMakeLists.txt), the rv32 board (rv32/CMakeLists.txt) and the
# ESP-IDF project (firmware/esp32/main/CMakeLists.txt). A new file in src/ goes here, once.
set(FERRY_HOST_SOURCES
  src/runtime.c src/natives.c src/board.c src/kv_state.c src/frame.c
  src/serial_dispatch.c src/serial_hello.c src/serial_command.c src/serial_upload.c src/serial_test.c
  src/command.c src/serial_signed_command.c src/crypto_kdf.c)
# SHA-256 and HMAC-SHA256 over mbedTLS (posix: Debian's libmbedtls-dev; ESP-IDF: its mbedtls
# component). The rv32 board has no mbedTLS build and compiles rv32/crypto_rv32.c instead.
set(FERRY_HOST_CRYPTO_MBEDTLS src/crypto.c)
# What the boards without an operating system share (rv32 and ESP-IDF): file-system and watchdog
# stubs of src/hal.h, the relay's argument checks, the tick with its watchdog reset.
set(FERRY_HOST_MCU_SOURCES mcu/hal_mcu.c)
