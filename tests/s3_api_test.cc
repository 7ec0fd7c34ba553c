// The parsers of S3's answers (s3_api.h) against the answers AWS and moto give, without a server.
#include <doctest/doctest.h>

#include "providers/s3/s3_api.h"

using namespace reconcile;

TEST_CASE("a bucket's versioning is read from AWS's answer and from moto's, which names its root otherwise") {
  CHECK(s3::ParseVersioning("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                            "<Status>Enabled</Status></VersioningConfiguration>") == "Enabled");
  CHECK(s3::ParseVersioning("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<GetBucketVersioningResponse "
                            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Suspended</Status>"
                            "</GetBucketVersioningResponse>") == "Suspended");
  // Never switched on: no Status at all.
  CHECK(s3::ParseVersioning("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>").empty());
}
