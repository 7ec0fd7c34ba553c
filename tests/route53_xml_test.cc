// Route 53's XML without a server: a record listing as moto and AWS write it (aliases with
// moto's stray TTL, escapes, routing-policy sets, pages), zones found by name, change info, the
// change batch reconcile sends, and which refusals mean "changed since the plan".
#include <doctest/doctest.h>

#include "providers/aws/aws_api.h"
#include "providers/dns/route53_xml.h"

using namespace reconcile;
using namespace reconcile::dns;
using namespace reconcile::dns::route53;

namespace {

const char* kPage = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
  <ResourceRecordSets>
    <ResourceRecordSet><Name>Example.ORG.</Name><Type>A</Type>
      <TTL>0</TTL>
      <AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId><DNSName>D111.cloudfront.net</DNSName>
        <EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>
    <ResourceRecordSet><Name>\052.example.org.</Name><Type>TXT</Type><TTL>300</TTL>
      <ResourceRecords><ResourceRecord><Value>"b &amp; c"</Value></ResourceRecord>
        <ResourceRecord><Value>"a"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
    <ResourceRecordSet><Name>api.example.org.</Name><Type>A</Type><SetIdentifier>blue</SetIdentifier>
      <Weight>10</Weight><TTL>60</TTL>
      <ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
  </ResourceRecordSets>
  <IsTruncated>true</IsTruncated><NextRecordName>www.example.org.</NextRecordName><NextRecordType>A</NextRecordType>
  <MaxItems>3</MaxItems>
</ListResourceRecordSetsResponse>)";

}  // namespace

TEST_CASE("a record listing: sets as listed, aliases without a TTL, where the next page starts") {
  auto page = ParseRecordPage(kPage);
  REQUIRE(page);
  REQUIRE(page->sets.size() == 3);
  const RRset& apex = page->sets[0];
  CHECK(apex.owner == "Example.ORG.");  // as listed: a DELETE repeats it
  REQUIRE(apex.alias);
  CHECK(*apex.alias == AliasTarget{"d111.cloudfront.net.", "Z2FDTNDATAQYW2", true});
  CHECK(apex.ttl == 0);
  CHECK(apex.values.empty());
  const RRset& txt = page->sets[1];
  CHECK(txt.ttl == 300);
  CHECK(txt.values == std::vector<std::string>{"\"b & c\"", "\"a\""});  // Route 53's order, kept
  CHECK(page->routed == std::vector<bool>{false, false, true});
  CHECK(page->truncated);
  CHECK(page->next_name == "www.example.org.");
  CHECK(page->next_type == "A");
  CHECK(page->next_identifier.empty());

  auto last = ParseRecordPage(
      "<ListResourceRecordSetsResponse><ResourceRecordSets/><IsTruncated>false</IsTruncated>"
      "</ListResourceRecordSetsResponse>");
  REQUIRE(last);
  CHECK(last->sets.empty());
  CHECK_FALSE(last->truncated);

  CHECK_FALSE(ParseRecordPage("<html>503</html>"));
  CHECK_FALSE(ParseRecordPage("not xml"));
  // Truncated without saying where to go on: an error, not an endless loop.
  CHECK_FALSE(
      ParseRecordPage("<ListResourceRecordSetsResponse><IsTruncated>true</IsTruncated>"
                      "</ListResourceRecordSetsResponse>"));
}

TEST_CASE("names compare lower case, absolute, with Route 53's \\ddd escapes read") {
  CHECK(NormalName("\\052.Example.org.") == "*.example.org.");
  CHECK(NormalName("WWW.example.org") == "www.example.org.");
  CHECK(NormalName("a\\100b.example.") == "a@b.example.");
  CHECK(NormalName("odd\\12") == "odd\\12.");  // not three digits: kept
}

TEST_CASE("zones by name: only those named exactly, ids without /hostedzone/") {
  const char* xml = R"(<ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
    <HostedZones>
      <HostedZone><Id>/hostedzone/ZPUBLIC</Id><Name>example.org.</Name></HostedZone>
      <HostedZone><Id>/hostedzone/ZPRIVATE</Id><Name>Example.org.</Name></HostedZone>
      <HostedZone><Id>/hostedzone/ZSUB</Id><Name>sub.example.org.</Name></HostedZone>
    </HostedZones><DNSName>example.org.</DNSName><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>
  </ListHostedZonesByNameResponse>)";
  CHECK(*ParseZonesNamed(xml, "example.org") == std::vector<std::string>{"ZPUBLIC", "ZPRIVATE"});
  CHECK(ParseZonesNamed(xml, "sub.example.org.")->size() == 1);
  CHECK(ParseZonesNamed(xml, "other.org.")->empty());
  CHECK(*ParseHostedZoneName(
            "<GetHostedZoneResponse><HostedZone><Id>/hostedzone/Z1</Id><Name>Example.org.</Name></HostedZone>"
            "</GetHostedZoneResponse>") == "example.org.");
  CHECK_FALSE(ParseHostedZoneName("<GetHostedZoneResponse/>"));
}

TEST_CASE("change info from a change batch's answer and from GetChange") {
  auto posted = ParseChangeInfo(
      "<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>PENDING</Status>"
      "</ChangeInfo></ChangeResourceRecordSetsResponse>");
  REQUIRE(posted);
  CHECK(posted->id == "C2682N5HXP0BZ4");
  CHECK(posted->status == "PENDING");
  auto polled = ParseChangeInfo(
      "<GetChangeResponse><ChangeInfo><Id>C2682N5HXP0BZ4</Id><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>");
  REQUIRE(polled);
  CHECK(polled->status == "INSYNC");
  CHECK_FALSE(ParseChangeInfo("<GetChangeResponse/>"));
}

TEST_CASE("a change batch: DELETE of the set as listed, CREATE of the new one, aliases without TTL") {
  RRset old{"WWW.example.org.", "A", 300, {"192.0.2.2", "192.0.2.1"}, std::nullopt};
  RRset now{"www.example.org.", "A", 60, {"198.51.100.7"}, std::nullopt};
  RRset alias{"example.org.", "A", 0, {}, AliasTarget{"d1.cloudfront.net.", "Z2FDTNDATAQYW2", false}};
  RRset txt{"t.example.org.", "TXT", 5, {"\"<a & b>\""}, std::nullopt};
  std::string xml = ChangeBatchXml({{"DELETE", old}, {"CREATE", now}, {"CREATE", alias}, {"CREATE", txt}}, "reconcile");
  CHECK(xml ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch>"
        "<Comment>reconcile</Comment><Changes>"
        "<Change><Action>DELETE</Action><ResourceRecordSet><Name>WWW.example.org.</Name><Type>A</Type><TTL>300</TTL>"
        "<ResourceRecords><ResourceRecord><Value>192.0.2.2</Value></ResourceRecord>"
        "<ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>www.example.org.</Name><Type>A</Type><TTL>60</TTL>"
        "<ResourceRecords><ResourceRecord><Value>198.51.100.7</Value></ResourceRecord></ResourceRecords>"
        "</ResourceRecordSet></Change>"
        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>example.org.</Name><Type>A</Type>"
        "<AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId><DNSName>d1.cloudfront.net.</DNSName>"
        "<EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>"
        "<Change><Action>CREATE</Action><ResourceRecordSet><Name>t.example.org.</Name><Type>TXT</Type><TTL>5</TTL>"
        "<ResourceRecords><ResourceRecord><Value>\"&lt;a &amp; b&gt;\"</Value></ResourceRecord></ResourceRecords>"
        "</ResourceRecordSet></Change>"
        "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n");
}

TEST_CASE("refusals: a set not as probed is 'changed since the plan', other mistakes are errors") {
  // AWS's shape has no Code: read as InvalidChangeBatch, its messages joined.
  auto aws = aws::ParseApiError(
      R"(<?xml version="1.0"?><InvalidChangeBatch xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Messages>)"
      R"(<Message>Tried to delete resource record set [name='www.example.org.', type='A'] but the values provided )"
      R"(do not match the current values</Message></Messages></InvalidChangeBatch>)");
  REQUIRE(aws);
  CHECK(aws->code == "InvalidChangeBatch");
  CHECK(IsChangedSincePlan(aws->code, aws->message));
  CHECK(
      IsChangedSincePlan("InvalidChangeBatch",
                         "Tried to delete resource record set [name='x.example.org.', type='A'] but it was not found"));
  CHECK(IsChangedSincePlan("InvalidChangeBatch",
                           "Tried to create resource record set [name='www.example.org.', type='A'] but it already "
                           "exists"));
  // moto's answer to a DELETE that matches nothing it holds.
  auto moto = aws::ParseApiError(
      "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>"
      "<Code>InvalidInput</Code><Message>Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and "
      "ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=DELETE, "
      "Name=www.example.org., Type=A, SetIdentifier=null]</Message></Error><RequestId>1</RequestId></ErrorResponse>");
  REQUIRE(moto);
  CHECK(IsChangedSincePlan(moto->code, moto->message));
  // Mistakes in the spec are not someone else's change.
  CHECK_FALSE(IsChangedSincePlan("InvalidChangeBatch",
                                 "RRSet with DNS name foo.other.net. is not permitted in zone example.org."));
  CHECK_FALSE(IsChangedSincePlan("InvalidInput", "Invalid value for TTL"));
  CHECK_FALSE(IsChangedSincePlan("SignatureDoesNotMatch", "Tried to delete"));
}

TEST_CASE("a CREATE after a DELETE of the same set becomes an UPSERT, for moto; others stay") {
  RRset www{"www.example.org.", "A", 60, {"192.0.2.1"}, std::nullopt};
  RRset upper = www;
  upper.owner = "WWW.Example.org.";
  RRset api{"api.example.org.", "A", 60, {"192.0.2.2"}, std::nullopt};
  std::vector<route53::Change> batch = {{"DELETE", upper}, {"CREATE", www}, {"CREATE", api}};
  CHECK(UpsertReplacements(&batch));
  CHECK(batch[0].action == "DELETE");
  CHECK(batch[1].action == "UPSERT");
  CHECK(batch[2].action == "CREATE");
  std::vector<route53::Change> fresh = {{"CREATE", www}, {"DELETE", api}};
  CHECK_FALSE(UpsertReplacements(&fresh));
  CHECK(fresh[0].action == "CREATE");
}
