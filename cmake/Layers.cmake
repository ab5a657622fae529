# The server's modules as layers (docs/ARCHITECTURE.md, "Layers"). Each
# module is an object library that sees only its own directory and the
# directories of the modules below it that it may use: its include path is
# a directory of links to exactly those (build/include-view/<module>/), not
# src/. An include of a module above it, or of one it does not list, fails
# the build with "No such file or directory". tscore links them all.
#
# ts_module(NAME SOURCES <files> SEES <module directories>)

set(TS_VIEW_ROOT ${CMAKE_BINARY_DIR}/include-view)
set(TS_MODULE_TARGETS "")
set(TS_MODULE_SOURCES "")

function(ts_module name)
  cmake_parse_arguments(M "" "" "SOURCES;SEES" ${ARGN})
  if(NOT M_SOURCES)
    return()
  endif()
  set(view ${TS_VIEW_ROOT}/${name})
  file(REMOVE_RECURSE ${view})
  file(MAKE_DIRECTORY ${view})
  foreach(dir ${M_SEES})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${dir} ${view}/${dir} SYMBOLIC)
  endforeach()
  add_library(ts_${name} OBJECT ${M_SOURCES})
  target_include_directories(ts_${name} PRIVATE ${view})
  # The libraries' headers and flags (jansson, OpenSSL, libpq, ...); tscore
  # links them.
  target_link_libraries(ts_${name} PRIVATE ${TS_LINK_DEPS})
  set(TS_MODULE_TARGETS ${TS_MODULE_TARGETS} ts_${name} PARENT_SCOPE)
  set(TS_MODULE_SOURCES ${TS_MODULE_SOURCES} ${M_SOURCES} PARENT_SCOPE)
endfunction()

macro(ts_glob var)
  file(GLOB ${var} CONFIGURE_DEPENDS ${ARGN})
endmacro()

set(S ${CMAKE_SOURCE_DIR}/src)
ts_glob(TS_SRC_CORE ${S}/core/*.c)
ts_glob(TS_SRC_WIRE ${S}/wire/*.c)
ts_glob(TS_SRC_HTTP ${S}/http/*.c)
ts_glob(TS_SRC_JOSE ${S}/jose/*.c)
ts_glob(TS_SRC_STORE ${S}/store/*.c ${S}/store/pg/*.c)
ts_glob(TS_SRC_TENANT ${S}/tenant/*.c)
ts_glob(TS_SRC_OPS ${S}/ops/*.c)
ts_glob(TS_SRC_IDENTITY ${S}/identity/*.c)
ts_glob(TS_SRC_ADMIN ${S}/admin/*.c)
ts_glob(TS_SRC_WEB ${S}/web/*.c)
ts_glob(TS_SRC_OAUTH ${S}/oauth/*.c)
ts_glob(TS_SRC_OIDC ${S}/oidc/*.c)
ts_glob(TS_SRC_API ${S}/api/*.c)
ts_glob(TS_SRC_COMPAT ${S}/compat/*.c)
ts_glob(TS_SRC_APP ${S}/app/*.c)
ts_glob(TS_SRC_CLI ${S}/cli/*.c)
# vault/ holds two modules: the vault itself (providers, connections,
# sealing, upstream calls, the refresh scheduler) and its HTTP endpoints.
set(TS_VAULT_ENDPOINTS api.c callback.c connect.c refresh_api.c)
ts_glob(TS_SRC_VAULT ${S}/vault/*.c)
set(TS_SRC_VAULT_HTTP "")
foreach(f ${TS_VAULT_ENDPOINTS})
  list(REMOVE_ITEM TS_SRC_VAULT ${S}/vault/${f})
  list(APPEND TS_SRC_VAULT_HTTP ${S}/vault/${f})
endforeach()

# Bottom to top. SEES lists every directory a module's files (and the
# headers they include) may name. core and wire form the base together:
# core's encoders use wire/ascii.h, a header of its own.
set(TS_SEES_BASE core wire http jose store)
set(TS_SEES_DOMAIN ${TS_SEES_BASE} tenant ops identity vault)
set(TS_SEES_WEB ${TS_SEES_DOMAIN} web)
ts_module(core SOURCES ${TS_SRC_CORE} SEES core wire)
ts_module(wire SOURCES ${TS_SRC_WIRE} SEES core wire)
ts_module(http SOURCES ${TS_SRC_HTTP} SEES core wire http)
ts_module(jose SOURCES ${TS_SRC_JOSE} SEES core wire jose)
ts_module(store SOURCES ${TS_SRC_STORE} SEES core wire store)
ts_module(tenant SOURCES ${TS_SRC_TENANT} SEES core wire jose store tenant)
ts_module(ops SOURCES ${TS_SRC_OPS} SEES core wire jose store tenant ops)
ts_module(identity SOURCES ${TS_SRC_IDENTITY} SEES core wire http jose store tenant identity)
ts_module(vault SOURCES ${TS_SRC_VAULT} SEES core wire http jose store tenant ops vault)
ts_module(admin SOURCES ${TS_SRC_ADMIN} SEES ${TS_SEES_DOMAIN} admin)
ts_module(web SOURCES ${TS_SRC_WEB} SEES ${TS_SEES_BASE} tenant ops identity web)
ts_module(oauth SOURCES ${TS_SRC_OAUTH} SEES ${TS_SEES_WEB} admin oauth)
ts_module(oidc SOURCES ${TS_SRC_OIDC} SEES ${TS_SEES_WEB} oauth oidc)
ts_module(api SOURCES ${TS_SRC_API} SEES ${TS_SEES_WEB} oauth api)
ts_module(vault_http SOURCES ${TS_SRC_VAULT_HTTP} SEES ${TS_SEES_WEB} oauth api)
ts_module(compat SOURCES ${TS_SRC_COMPAT} SEES ${TS_SEES_WEB} oauth oidc api compat)
ts_module(app SOURCES ${TS_SRC_APP} SEES ${TS_SEES_WEB} admin oauth oidc api compat app)
ts_module(cli SOURCES ${TS_SRC_CLI} SEES ${TS_SEES_WEB} admin oauth oidc api compat app cli)

# Every server source belongs to exactly one module.
set(TS_UNLAYERED ${TS_LIB_SOURCES})
list(REMOVE_ITEM TS_UNLAYERED ${TS_MODULE_SOURCES})
if(TS_UNLAYERED)
  message(FATAL_ERROR "sources in no layer (add them to cmake/Layers.cmake): ${TS_UNLAYERED}")
endif()

set(TS_MODULE_OBJECTS "")
foreach(t ${TS_MODULE_TARGETS})
  list(APPEND TS_MODULE_OBJECTS $<TARGET_OBJECTS:${t}>)
endforeach()
add_library(tscore STATIC ${TS_MODULE_OBJECTS})
target_include_directories(tscore PUBLIC ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(tscore PUBLIC ${TS_LINK_DEPS})
