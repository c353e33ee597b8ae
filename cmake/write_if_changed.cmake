# hoso_write_if_changed(PATH CONTENT): writes a generated file only when its content differs, so
# an unchanged input does not make everything that includes or compiles it build again.
function(hoso_write_if_changed path content)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${path}" "${content}")
  endif()
endfunction()
