# reconcile installed like a tool: the binary, reconcile(1) written from its own help, bash
# completion and the docs, in the GNU places (`cmake --install build`); `cpack -G DEB` in the
# build folder packs the same files as a .deb whose Depends are the Debian libraries the binary
# links. Included at the end of CMakeLists.txt; tests/install_test.sh installs the .deb and
# removes it again.
include(GNUInstallDirs)

# reconcile(1), written again whenever the binary changes (a DEPENDS on an executable target
# is a dependency on its file), so it cannot drift from the command line.
set(reconcile_man_page ${CMAKE_BINARY_DIR}/reconcile.1)
add_custom_command(
  OUTPUT ${reconcile_man_page} ${reconcile_man_page}.gz
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/man_from_help.sh $<TARGET_FILE:reconcile> ${reconcile_man_page}
  # Debian compresses man pages; -n leaves out the name and time, so the package is reproducible.
  COMMAND gzip -9 -n -k -f ${reconcile_man_page}
  DEPENDS reconcile ${CMAKE_CURRENT_LIST_DIR}/man_from_help.sh
  COMMENT "Writing reconcile(1) from reconcile --help"
  VERBATIM)
add_custom_target(reconcile_man ALL DEPENDS ${reconcile_man_page} ${reconcile_man_page}.gz)

install(TARGETS reconcile RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${reconcile_man_page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/completion/reconcile.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME reconcile)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")

# cpack packs what was built and never starts a build itself (by default it makes `all` first):
# builds on the shared machines run under a lock, and the install test packs the build it tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(RECONCILE_MAINTAINER "reconcile maintainers <maintainers@users.noreply.b-seed-3e672326.example>"
    CACHE STRING "Maintainer of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME reconcile)
set(CPACK_PACKAGE_CONTACT ${RECONCILE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "infrastructure cutovers as a declarative, staged spec")
set(CPACK_PACKAGE_DESCRIPTION "reconcile plans, applies and rolls back infrastructure cutovers stage by
stage: the world wanted at each stage is written in TOML, probed through providers
(files, nginx, services, DNS, S3, PostgreSQL, nftables, AWS, over SSH), diffed, applied
behind checks and journaled, so that `reconcile rollback --to STAGE` puts it back as it
was after that stage.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # reconcile_0.2.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the libraries it links (dpkg-shlibdeps)
# ... and the two it opens at first use, which dpkg-shlibdeps cannot see (engine/dynamic_library.h):
# at least the upstream versions it was built against, as their shlibs files ask on Debian 12.
foreach(lib LIBCURL LIBPQ)
  if(NOT RECONCILE_${lib}_PACKAGE)
    message(WARNING "${RECONCILE_${lib}_SONAME} belongs to no Debian package here: the .deb will not depend on it")
    continue()
  endif()
  execute_process(COMMAND dpkg-query -W "-f=\${Version}" ${RECONCILE_${lib}_DPKG} OUTPUT_VARIABLE version ERROR_QUIET)
  string(REGEX REPLACE "-[^-]*$" "" version "${version}")
  if(version)
    list(APPEND opened_depends "${RECONCILE_${lib}_PACKAGE} (>= ${version})")
  else()
    list(APPEND opened_depends "${RECONCILE_${lib}_PACKAGE}")
  endif()
endforeach()
list(JOIN opened_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "graphviz")  # plan --format markdown|html draws the graph with dot
set(CPACK_STRIP_FILES ON)  # the RelWithDebInfo binary is over 100 MB with its debug info
include(CPack)

# The man page checked against the help, and the completion run as bash runs it.
if(RECONCILE_TESTS)
  foreach(script man_page_test completion_test)
    add_test(NAME ${script} COMMAND ${CMAKE_SOURCE_DIR}/tests/${script}.sh $<TARGET_FILE:reconcile>
             ${CMAKE_SOURCE_DIR})
  endforeach()
endif()
# The .deb built, installed for real into this machine's /usr, run, and removed. In the plain
# build only: a package is made from one, never from a sanitizer build.
if(RECONCILE_TESTS AND NOT RECONCILE_SANITIZE)
  add_test(NAME install_test COMMAND ${CMAKE_SOURCE_DIR}/tests/install_test.sh $<TARGET_FILE:reconcile>
           ${CMAKE_SOURCE_DIR})
endif()
