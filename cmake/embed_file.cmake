# Turns one file into a C array, so a binary carries the bytes it was built with (the gateway's
# descriptor set). Run at build time: cmake -DIN=file -DOUT=file.c -DSYM=name -P this; defines
# `const unsigned char SYM[]` (with a NUL after the bytes) and `const size_t SYM_len`.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
# one line per 32 bytes keeps compilers' and editors' line lengths sane
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" hex "${hex}")
set(content "/* generated from ${IN} by cmake/embed_file.cmake; do not edit */\n#include <stddef.h>\nconst unsigned char ${SYM}[] = {\n${hex}0x00};\nconst size_t ${SYM}_len = ${n};\n")
include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
hoso_write_if_changed("${OUT}" "${content}")
