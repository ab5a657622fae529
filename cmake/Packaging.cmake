# Packaging.cmake: install layout and the Debian packages (cpack -G DEB).
#
# Two packages from one build:
#   tessera         /usr/bin/tessera, libtessera's shared library, and with
#                   TS_INSTALL_SYSTEM=ON the systemd unit, /etc/tessera and
#                   the maintainer scripts (a `tessera` system user,
#                   /var/lib/tessera, a generated master key);
#   libtessera-dev  the headers, the development link and tessera.pc.
# The example resource server is never part of either.
#
# Build them with scripts/package.sh (a Release build with
# CMAKE_INSTALL_PREFIX=/usr and TS_INSTALL_SYSTEM=ON, then cpack -G DEB).

option(TS_INSTALL_SYSTEM "Install the systemd unit and /etc/tessera (for system packages)" OFF)

install(TARGETS tessera RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(TARGETS tessera_lib
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT server NAMELINK_COMPONENT dev)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/tessera DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_BINARY_DIR}/tessera.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE ${CMAKE_SOURCE_DIR}/NOTICE
              ${CMAKE_SOURCE_DIR}/CHANGELOG.md ${CMAKE_SOURCE_DIR}/README.md
              ${CMAKE_SOURCE_DIR}/docs/OPERATIONS.md ${CMAKE_SOURCE_DIR}/docs/BEHAVIOUR.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/tessera.env
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples RENAME tessera.env.example COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/tessera-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT server)

if(TS_INSTALL_SYSTEM)
  install(FILES ${CMAKE_SOURCE_DIR}/packaging/tessera.service
          DESTINATION /lib/systemd/system COMPONENT server)
  install(FILES ${CMAKE_SOURCE_DIR}/packaging/tessera.json DESTINATION /etc/tessera
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT server)
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "tessera")
set(CPACK_PACKAGE_VENDOR "The Tessera authors")
set(CPACK_PACKAGE_CONTACT "Tessera maintainers <maintainers@tessera.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "OAuth 2.0 / OpenID Connect server, identity API and token vault")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_COMPONENTS_ALL server dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://tessera.invalid/")
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME "tessera")
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_DESCRIPTION
    "OAuth 2.0 / OpenID Connect server, identity API and token vault\n Tessera serves many isolated tenants from one process: authorization\n code with PKCE, refresh rotation, client credentials, device grant,\n API keys and sessions, and a vault for outside platforms' tokens.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/packaging/debian/postinst;${CMAKE_SOURCE_DIR}/packaging/debian/prerm;${CMAKE_SOURCE_DIR}/packaging/debian/postrm;${CMAKE_SOURCE_DIR}/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME "libtessera-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "tessera (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "libtessera development files\n Headers, the link library and tessera.pc for C resource servers that\n check Tessera credentials.")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
include(CPack)
