# WAMR's platform layer for the rv32 board: bare metal, one thread, no MMU. WAMR's
# build-scripts/runtime_lib.cmake includes this file through SHARED_PLATFORM_CONFIG (wamr/CMakeLists.txt)
# instead of one of its own core/shared/platform/<os>/ folders.
set(PLATFORM_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR})
add_definitions(-DBH_PLATFORM_FERRY_RV32)
include_directories(${PLATFORM_SHARED_DIR})
include_directories(${WAMR_ROOT}/core/shared/platform/include)
set(PLATFORM_SHARED_SOURCE ${PLATFORM_SHARED_DIR}/platform_rv32.c)
