# Cross toolchain for the rv32 board: Debian's bare-metal RISC-V GCC (gcc-riscv64-unknown-elf, which
# also targets rv32) with picolibc (picolibc-riscv64-unknown-elf). RV32IMC / ilp32 is the ESP32-C3's
# instruction set: integer multiply/divide, compressed instructions, no FPU (doubles in software).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_AR riscv64-unknown-elf-ar)
set(CMAKE_RANLIB riscv64-unknown-elf-ranlib)
set(CMAKE_SIZE riscv64-unknown-elf-size)
# Compiler checks link a program: do it as a static library so no linker script is needed yet.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# picolibc.specs selects picolibc's headers, crt0 and libraries (the rv32im/ilp32 multilib, which
# rv32imc code links against); its linker script is configured in CMakeLists.txt.
set(CMAKE_C_FLAGS_INIT "-march=rv32imc -mabi=ilp32 -specs=picolibc.specs")
set(CMAKE_ASM_FLAGS_INIT "-march=rv32imc -mabi=ilp32 -specs=picolibc.specs")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
