# The service table (common/services.tsv), read when the build is configured: HOSO_SERVICES (the
# names, in start order), HOSO_SERVICE_<NAME>_VAR / _PORT / _GATEWAY for each, and
# gen/services.c, the same table for C (cfg.h: cfg_services). A change to the table configures
# the build again.
set(HOSO_SERVICES_TSV ${CMAKE_SOURCE_DIR}/common/services.tsv)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${HOSO_SERVICES_TSV})
file(STRINGS ${HOSO_SERVICES_TSV} svc_lines ENCODING UTF-8)
set(HOSO_SERVICES "")
set(svc_rows "")
foreach(line ${svc_lines})
  if(line MATCHES "^[ \t]*(#|$)")
    continue()
  endif()
  if(NOT line MATCHES "^([a-z][a-z0-9]*)[ \t]+(HOSO_[A-Z0-9_]+)[ \t]+([0-9]+)[ \t]+(yes|no|self)[ \t]*$")
    message(FATAL_ERROR "common/services.tsv: \"${line}\" is not: name variable port yes|no|self")
  endif()
  set(name ${CMAKE_MATCH_1})
  string(TOUPPER ${name} up)
  list(APPEND HOSO_SERVICES ${name})
  set(HOSO_SERVICE_${up}_VAR ${CMAKE_MATCH_2})
  set(HOSO_SERVICE_${up}_PORT ${CMAKE_MATCH_3})
  set(HOSO_SERVICE_${up}_GATEWAY ${CMAKE_MATCH_4})
  string(TOUPPER "CFG_GATEWAY_${CMAKE_MATCH_4}" gw)
  string(APPEND svc_rows "    {\"${name}\", \"${CMAKE_MATCH_2}\", ${CMAKE_MATCH_3}, \"127.0.0.1:${CMAKE_MATCH_3}\", ${gw}},\n")
endforeach()
list(LENGTH HOSO_SERVICES n)
set(content "/* generated from common/services.tsv by cmake/services.cmake; do not edit */
#include <stddef.h>
#include \"cfg.h\"
const cfg_service cfg_services[] = {
${svc_rows}    {NULL, NULL, 0, NULL, 0},
};
const size_t cfg_services_count = ${n};
")
set(HOSO_SERVICES_C ${CMAKE_BINARY_DIR}/gen/services.c)
include(${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake)
hoso_write_if_changed(${HOSO_SERVICES_C} "${content}")
