// libpq's functions that reconcile calls, defined here as stubs that forward to the library
// opened at first use. A function of libpq's that is called without a stub here is a link
// error, not a silent early load.
#include "engine/libpq.h"

#include <libpq-fe.h>

#include "engine/dynamic_library.h"

namespace reconcile {

namespace {

// Every function the stubs below forward to, checked when the library is opened.
constexpr const char* kNames[] = {"PQconnectdbParams",
                                  "PQfinish",
                                  "PQstatus",
                                  "PQerrorMessage",
                                  "PQsetNoticeProcessor",
                                  "PQexec",
                                  "PQexecParams",
                                  "PQclear",
                                  "PQresultStatus",
                                  "PQresultErrorMessage",
                                  "PQresultErrorField",
                                  "PQntuples",
                                  "PQnfields",
                                  "PQgetvalue",
                                  "PQgetisnull",
                                  "PQescapeLiteral",
                                  "PQescapeIdentifier",
                                  "PQencryptPasswordConn",
                                  "PQfreemem"};

DynamicLibrary& Library() {
  static DynamicLibrary lib(RECONCILE_LIBPQ_SONAME, RECONCILE_LIBPQ_INSTALL,
                            "PostgreSQL (a journal kept in a database, the postgres resources)", kNames);
  return lib;
}

}  // namespace

Status LoadLibpq() { return Library().Load(); }

}  // namespace reconcile

#define RECONCILE_PQ(name) static const auto real = ::reconcile::Forward(::reconcile::Library(), #name, &name)

extern "C" {

PGconn* PQconnectdbParams(const char* const* keywords, const char* const* values, int expand_dbname) {
  RECONCILE_PQ(PQconnectdbParams);
  return real(keywords, values, expand_dbname);
}

void PQfinish(PGconn* conn) {
  RECONCILE_PQ(PQfinish);
  real(conn);
}

ConnStatusType PQstatus(const PGconn* conn) {
  RECONCILE_PQ(PQstatus);
  return real(conn);
}

char* PQerrorMessage(const PGconn* conn) {
  RECONCILE_PQ(PQerrorMessage);
  return real(conn);
}

PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  RECONCILE_PQ(PQsetNoticeProcessor);
  return real(conn, proc, arg);
}

PGresult* PQexec(PGconn* conn, const char* query) {
  RECONCILE_PQ(PQexec);
  return real(conn, query);
}

PGresult* PQexecParams(PGconn* conn, const char* command, int n, const Oid* types, const char* const* values,
                       const int* lengths, const int* formats, int result_format) {
  RECONCILE_PQ(PQexecParams);
  return real(conn, command, n, types, values, lengths, formats, result_format);
}

void PQclear(PGresult* res) {
  RECONCILE_PQ(PQclear);
  real(res);
}

ExecStatusType PQresultStatus(const PGresult* res) {
  RECONCILE_PQ(PQresultStatus);
  return real(res);
}

char* PQresultErrorMessage(const PGresult* res) {
  RECONCILE_PQ(PQresultErrorMessage);
  return real(res);
}

char* PQresultErrorField(const PGresult* res, int fieldcode) {
  RECONCILE_PQ(PQresultErrorField);
  return real(res, fieldcode);
}

int PQntuples(const PGresult* res) {
  RECONCILE_PQ(PQntuples);
  return real(res);
}

int PQnfields(const PGresult* res) {
  RECONCILE_PQ(PQnfields);
  return real(res);
}

char* PQgetvalue(const PGresult* res, int row, int field) {
  RECONCILE_PQ(PQgetvalue);
  return real(res, row, field);
}

int PQgetisnull(const PGresult* res, int row, int field) {
  RECONCILE_PQ(PQgetisnull);
  return real(res, row, field);
}

char* PQescapeLiteral(PGconn* conn, const char* str, size_t len) {
  RECONCILE_PQ(PQescapeLiteral);
  return real(conn, str, len);
}

char* PQescapeIdentifier(PGconn* conn, const char* str, size_t len) {
  RECONCILE_PQ(PQescapeIdentifier);
  return real(conn, str, len);
}

char* PQencryptPasswordConn(PGconn* conn, const char* passwd, const char* user, const char* algorithm) {
  RECONCILE_PQ(PQencryptPasswordConn);
  return real(conn, passwd, user, algorithm);
}

void PQfreemem(void* ptr) {
  RECONCILE_PQ(PQfreemem);
  real(ptr);
}

}  // extern "C"
