# The layering of PrefLab's folders, checked on every build by CTest
# (tests/CMakeLists.txt; docs/architecture.md explains the floors).
#
#   cmake -DSOURCE_DIR=<tree> [-DCOMPILE_COMMANDS=<build>/compile_commands.json] -P check_layering.cmake
#
# Fails, naming the file and line, when:
#   - a file includes a folder its floor may not see (below: ALLOWED_<folder>);
#   - two folders include each other (whatever the table allows);
#   - a torch-free folder (core/values, core/compare, storage, ui) includes a
#     torch header, or (with COMPILE_COMMANDS) is compiled with LibTorch's
#     include path: the UI library would then link torch.
# Written as a CMake script so that it needs nothing the build does not.
cmake_minimum_required(VERSION 3.25)

if(NOT SOURCE_DIR)
  message(FATAL_ERROR "check_layering: set -DSOURCE_DIR=<the tree to check>")
endif()

# Each folder and the folders it may include besides itself. Inside core the
# floors go up from values (plain C++ every tier may include) to loop.
set(ALLOWED_core/values "")
set(ALLOWED_core/runtime "")
set(ALLOWED_core/compare "core/values")
set(ALLOWED_core/text "core/values;core/runtime")
set(ALLOWED_core/nn "core/values;core/runtime;core/text")
set(ALLOWED_core/hf "core/values;core/runtime;core/text;core/nn")
set(ALLOWED_core/algo "core/values;core/runtime;core/text;core/nn")
set(ALLOWED_core/task "core/values;core/runtime;core/text;core/nn")
set(ALLOWED_core/models "core/values;core/runtime;core/text;core/nn;core/hf;core/task")
set(ALLOWED_core/judges "core/values;core/runtime;core/text;core/nn;core/hf;core/task;core/algo")
set(ALLOWED_core/distributed "core/values;core/runtime;core/text;core/nn")
set(ALLOWED_core/loop "core/values;core/runtime;core/compare;core/text;core/nn;core/hf;core/algo;core/task;core/models;core/judges;core/distributed")
set(CORE_ALL "core/values;core/runtime;core/compare;core/text;core/nn;core/hf;core/algo;core/task;core/models;core/judges;core/distributed;core/loop")
# storage: SQL and value types; no tensors.
set(ALLOWED_storage "core/values")
# ui: widgets over values; of storage only the read models and the reader.
set(ALLOWED_ui "core/values;core/compare;storage/read_models.h;storage/records.h;storage/database_reader.h")
# app: the session glues core and storage; the GUI composes session and ui;
# the command line uses all below it.
set(ALLOWED_app/session "${CORE_ALL};storage")
set(ALLOWED_app/gui "app/session;ui;storage;core/values;core/compare")
set(ALLOWED_app/cli "app/session;${CORE_ALL};storage")
set(ALLOWED_app "app/cli;app/gui;app/session;${CORE_ALL};storage")
set(TORCH_FREE "core/values;core/compare;storage;ui")

# The folder (floor) of a path relative to the tree: core/<x>, app/<x>, or
# the top-level folder; "" for files outside the layered folders.
function(floor_of rel out)
  if(rel MATCHES "^(core|app)/([a-z_]+)/")
    set(${out} "${CMAKE_MATCH_1}/${CMAKE_MATCH_2}" PARENT_SCOPE)
  elseif(rel MATCHES "^(app)/[^/]+$")
    set(${out} "app" PARENT_SCOPE)
  elseif(rel MATCHES "^(storage|ui)/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

set(problems "")
set(edges "")
file(GLOB_RECURSE sources RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/core/*.h" "${SOURCE_DIR}/core/*.cpp"
     "${SOURCE_DIR}/storage/*.h" "${SOURCE_DIR}/storage/*.cpp" "${SOURCE_DIR}/ui/*.h" "${SOURCE_DIR}/ui/*.cpp"
     "${SOURCE_DIR}/app/*.h" "${SOURCE_DIR}/app/*.cpp")
foreach(rel IN LISTS sources)
  floor_of("${rel}" from)
  if(from STREQUAL "")
    continue()
  endif()
  file(STRINGS "${SOURCE_DIR}/${rel}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  set(lineNo 0)
  foreach(line IN LISTS lines)
    if(line MATCHES "#[ \t]*include[ \t]*<(torch/|ATen/|c10/)")
      list(FIND TORCH_FREE "${from}" free)
      if(free GREATER -1)
        list(APPEND problems "${rel}: ${from} is torch-free but includes ${CMAKE_MATCH_1} (${line})")
      endif()
      continue()
    endif()
    if(NOT line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      continue()
    endif()
    set(target "${CMAKE_MATCH_1}")
    floor_of("${target}" to)
    if(to STREQUAL "" OR to STREQUAL from)
      continue()
    endif()
    list(APPEND edges "${from}>${to}")
    set(ok FALSE)
    foreach(allowed IN LISTS ALLOWED_${from})
      if(to STREQUAL allowed OR target STREQUAL allowed)
        set(ok TRUE)
      endif()
    endforeach()
    if(NOT ok)
      string(REPLACE ";" ", " allowedText "${ALLOWED_${from}}")
      if(allowedText STREQUAL "")
        set(allowedText "nothing outside itself")
      endif()
      list(APPEND problems "${rel}: ${from} may not include ${target} (${from} may include ${allowedText})")
    endif()
  endforeach()
endforeach()

# Two folders that include each other are one room or a missing interface.
list(REMOVE_DUPLICATES edges)
foreach(edge IN LISTS edges)
  string(REPLACE ">" ";" pair "${edge}")
  list(GET pair 0 a)
  list(GET pair 1 b)
  list(FIND edges "${b}>${a}" back)
  if(back GREATER -1 AND a STRLESS b)
    list(APPEND problems "${a} and ${b} include each other")
  endif()
endforeach()

# The torch-free libraries are compiled without LibTorch's headers.
if(COMPILE_COMMANDS)
  file(READ "${COMPILE_COMMANDS}" json)
  string(JSON count LENGTH "${json}")
  math(EXPR last "${count} - 1")
  set(checked 0)
  foreach(i RANGE ${last})
    string(JSON file GET "${json}" ${i} file)
    string(JSON command GET "${json}" ${i} command)
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
    floor_of("${rel}" from)
    list(FIND TORCH_FREE "${from}" free)
    if(free GREATER -1)
      math(EXPR checked "${checked} + 1")
      if(command MATCHES "torch/csrc/api/include|/include/torch")
        list(APPEND problems "${rel}: compiled with LibTorch's include path (its library links torch)")
      endif()
    endif()
  endforeach()
  if(checked EQUAL 0)
    list(APPEND problems "${COMPILE_COMMANDS}: no file of ${TORCH_FREE} found: is it this tree's build?")
  endif()
endif()

list(LENGTH sources fileCount)
list(LENGTH edges edgeCount)
if(problems)
  list(LENGTH problems n)
  string(REPLACE ";" "\n  " listed "${problems}")
  message(FATAL_ERROR "layering: ${n} problem(s) in ${fileCount} files:\n  ${listed}")
endif()
message(STATUS "layering: ${fileCount} files, ${edgeCount} folder-to-folder includes, all downward")
