# The WAMR feature set of every Ferry board, whatever the platform: include this before WAMR's
# build-scripts/runtime_lib.cmake (posix/CMakeLists.txt does; an ESP-IDF component will too).
# Every switch is set explicitly because WAMR's defaults differ between its entry points (its root
# CMakeLists.txt turns on AOT, libc-builtin, libc-wasi, SIMD, bulk memory and reference types;
# build-scripts/config_common.cmake turns on bulk memory). Meaning of each: WAMR doc/build_wamr.md and
# build-scripts/config_common.cmake (WAMR 2.4.3).
#
# Inputs (set by the includer): FERRY_FAST_INTERP, FERRY_INSTRUCTION_METERING, FERRY_THREAD_MGR (ON/OFF).

# Running mode: interpreter only. The fast interpreter precompiles each function into a
# label-threaded form (faster, ~2-3x the code size in RAM); the classic one runs the wasm bytecode.
set(WAMR_BUILD_INTERP 1)
if(FERRY_FAST_INTERP)
  set(WAMR_BUILD_FAST_INTERP 1)
else()
  set(WAMR_BUILD_FAST_INTERP 0)
endif()
set(WAMR_BUILD_AOT 0)
set(WAMR_BUILD_JIT 0)
set(WAMR_BUILD_FAST_JIT 0)
set(WAMR_BUILD_MINI_LOADER 0)          # the full loader validates modules; the mini one trusts them

# No libc for guests: a module may import only what the Ferry ABI registers (see src/natives.h).
set(WAMR_BUILD_LIBC_BUILTIN 0)
set(WAMR_BUILD_LIBC_WASI 0)
set(WAMR_BUILD_LIBC_UVWASI 0)

# No wasm threads. THREAD_MGR alone is only the bookkeeping that lets wasm_runtime_terminate() stop a
# running call from another thread (off by default; see FERRY_THREAD_MGR in ../CMakeLists.txt).
set(WAMR_BUILD_LIB_PTHREAD 0)
set(WAMR_BUILD_LIB_WASI_THREADS 0)
set(WAMR_BUILD_SHARED_MEMORY 0)
if(FERRY_THREAD_MGR)
  set(WAMR_BUILD_THREAD_MGR 1)
else()
  set(WAMR_BUILD_THREAD_MGR 0)
endif()

# Wasm proposals: firmware is MVP + mutable-globals + sign-extension (+ multi-value and non-trapping
# float-to-int, which WAMR cannot turn off). Everything else off, so a module that uses more fails
# to load instead of running on one host and not another.
set(WAMR_BUILD_BULK_MEMORY 0)
set(WAMR_BUILD_REF_TYPES 0)
set(WAMR_BUILD_SIMD 0)
set(WAMR_BUILD_TAIL_CALL 0)
set(WAMR_BUILD_GC 0)
set(WAMR_BUILD_EXCE_HANDLING 0)
set(WAMR_BUILD_MEMORY64 0)
set(WAMR_BUILD_MULTI_MEMORY 0)
set(WAMR_BUILD_EXTENDED_CONST_EXPR 0)
set(WAMR_BUILD_MULTI_MODULE 0)

# Software bounds checks on every load/store, as on the ESP32 (no MMU tricks, no signal handlers);
# this also turns off the native-stack guard pages (WASM_DISABLE_STACK_HW_BOUND_CHECK).
set(WAMR_DISABLE_HW_BOUND_CHECK 1)

# wasm_runtime_dump_mem_consumption() and the figures it prints.
set(WAMR_BUILD_MEMORY_PROFILING 1)

# wasm_runtime_set_instruction_count_limit(): the interpreter counts down a per-call budget and
# raises "instruction limit exceeded" (interpreter/wasm_interp_{fast,classic}.c, CHECK_INSTRUCTION_LIMIT).
if(FERRY_INSTRUCTION_METERING)
  set(WAMR_BUILD_INSTRUCTION_METERING 1)
else()
  set(WAMR_BUILD_INSTRUCTION_METERING 0)
endif()
