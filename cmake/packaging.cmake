# Two Debian packages from one build (`cpack -G DEB` in the build directory): ruxx-sync-master
# (master-server + its systemd unit) and ruxx-sync-slave (slave-agent + its unit). Library
# dependencies are computed by dpkg-shlibdeps. Each package marks its /etc/default file as a
# conffile (an upgrade keeps the deployer's edits) and carries maintainer scripts made from
# cmake/debian/*.in: systemd reloads units on install and removal, a running service restarts
# on upgrade, removal stops and disables it; nothing is ever enabled or deleted for the user.
set(CPACK_PACKAGE_NAME "ruxx-sync")
set(CPACK_PACKAGE_VENDOR "ruxxengas")
set(CPACK_PACKAGE_CONTACT "ruxxengas operations <ops@ruxxengas.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SQLite master/slave sync for the ruxxengas point of sale")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL master slave)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_MASTER_PACKAGE_NAME "ruxx-sync-master")
set(CPACK_DEBIAN_SLAVE_PACKAGE_NAME "ruxx-sync-slave")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

foreach(component master slave)
  if(component STREQUAL "master")
    set(RUXX_UNIT_BASE "ruxx-master-server")
  else()
    set(RUXX_UNIT_BASE "ruxx-slave-agent")
  endif()
  string(TOUPPER "${component}" COMPONENT_UPPER)
  set(RUXX_PACKAGE "${CPACK_DEBIAN_${COMPONENT_UPPER}_PACKAGE_NAME}")
  set(RUXX_UNIT "${RUXX_UNIT_BASE}.service")
  set(control_dir "${CMAKE_BINARY_DIR}/debian/${component}")
  set(control_files "")
  configure_file("${CMAKE_CURRENT_LIST_DIR}/debian/conffiles.in" "${control_dir}/conffiles" @ONLY)
  list(APPEND control_files "${control_dir}/conffiles")
  foreach(script postinst prerm postrm)
    configure_file("${CMAKE_CURRENT_LIST_DIR}/debian/${script}.in" "${control_dir}/${script}" @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                    WORLD_READ WORLD_EXECUTE)
    list(APPEND control_files "${control_dir}/${script}")
  endforeach()
  set(CPACK_DEBIAN_${COMPONENT_UPPER}_PACKAGE_CONTROL_EXTRA "${control_files}")
endforeach()
include(CPack)
