# Two Debian packages from one build (`cpack -G DEB` in the build directory): ruxx-sync-master
# (master-server + its systemd unit) and ruxx-sync-slave (slave-agent + its unit). Library
# dependencies are computed by dpkg-shlibdeps.
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
set(CPACK_DEBIAN_PACKAGE_CONFFILES "")
include(CPack)
