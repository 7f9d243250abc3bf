// gzip_compress / gzip_decompress: round trips, corrupt and truncated input, the output limit.
#include <catch2/catch.hpp>

#include <synccore/net/gzip.hpp>

#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>

using synccore::net::gzip_compress;
using synccore::net::gzip_decompress;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

}  // namespace

TEST_CASE("gzip round trip of empty and text and binary data", "[net][gzip]") {
  for (const std::string& original : {std::string(), std::string("hello, gas plant"),
                                      std::string(500000, 'x'), random_bytes(300000, 7)}) {
    const std::string packed = gzip_compress(original);
    REQUIRE(packed.size() >= 18);
    CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);  // gzip magic
    CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
    auto unpacked = gzip_decompress(packed, original.size());
    REQUIRE(unpacked.has_value());
    CHECK(*unpacked == original);
  }
}

TEST_CASE("gzip compresses repetitive JSON", "[net][gzip]") {
  std::string json = "[";
  for (int i = 0; i < 2000; ++i) json += R"({"id":1,"name":"12.5kg cylinder","price":"500.00"},)";
  json += "{}]";
  CHECK(gzip_compress(json).size() * 10 < json.size());
}

TEST_CASE("gzip_decompress accepts concatenated members", "[net][gzip]") {
  const std::string packed = gzip_compress("abc") + gzip_compress("def");
  auto unpacked = gzip_decompress(packed, 100);
  REQUIRE(unpacked.has_value());
  CHECK(*unpacked == "abcdef");
}

TEST_CASE("gzip_decompress rejects corrupt or truncated or non-gzip input", "[net][gzip]") {
  const std::string packed = gzip_compress(std::string(10000, 'a') + random_bytes(5000, 3));

  SECTION("not gzip at all") {
    auto r = gzip_decompress("this is plain text, not gzip", 1 << 20);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "gzip");
  }
  SECTION("empty input") { CHECK_FALSE(gzip_decompress("", 100).has_value()); }
  SECTION("truncated") {
    CHECK_FALSE(gzip_decompress(packed.substr(0, packed.size() / 2), 1 << 20).has_value());
    CHECK_FALSE(gzip_decompress(packed.substr(0, packed.size() - 4), 1 << 20).has_value());
  }
  SECTION("flipped byte in the deflate data or the CRC") {
    std::string bad = packed;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x55);
    CHECK_FALSE(gzip_decompress(bad, 1 << 20).has_value());
    std::string bad_crc = packed;
    bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 0x01);
    CHECK_FALSE(gzip_decompress(bad_crc, 1 << 20).has_value());
  }
  SECTION("trailing garbage") {
    CHECK_FALSE(gzip_decompress(packed + "garbage!", 1 << 20).has_value());
  }
}

TEST_CASE("gzip_decompress enforces the output limit (zip bomb)", "[net][gzip]") {
  const std::string original(10 * 1024 * 1024, '\0');  // 10 MiB of zeros: ~10 KiB of gzip
  const std::string bomb = gzip_compress(original);
  REQUIRE(bomb.size() < 64 * 1024);

  auto too_big = gzip_decompress(bomb, 1024 * 1024);
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().field == "max_output");

  CHECK_FALSE(gzip_decompress(bomb, original.size() - 1).has_value());
  auto exact = gzip_decompress(bomb, original.size());
  REQUIRE(exact.has_value());
  CHECK(exact->size() == original.size());
}

TEST_CASE("gzip_stream pieces form one member of the whole input", "[net][gzip]") {
  const std::string text = random_bytes(200000, 11) + std::string(300000, 'z');
  for (const std::size_t piece : {std::size_t{1}, std::size_t{4096}, std::size_t{70000}}) {
    synccore::net::gzip_stream stream;
    std::string packed;
    for (std::size_t at = 0; at < text.size(); at += piece) {
      packed += stream.compress(std::string_view(text).substr(at, piece), false);
      packed += stream.compress("", false);  // an empty piece changes nothing
    }
    packed += stream.compress("", true);
    CHECK(packed.size() < text.size());
    const auto plain = gzip_decompress(packed, 1 << 20);
    REQUIRE(plain.has_value());
    CHECK(*plain == text);
    CHECK_THROWS(stream.compress("more", false));  // the member is finished
  }
  synccore::net::gzip_stream only_finish;
  const auto empty = gzip_decompress(only_finish.compress("", true), 16);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("gzip_compress output is plain gzip that zlib inflates", "[net][gzip]") {
  // The peers are the PHP module, curl and Python: what libdeflate writes must be standard gzip.
  const std::string text = random_bytes(100000, 5) + std::string(200000, 'q');
  const std::string packed = gzip_compress(text);
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string plain(text.size() + 1, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  zs.avail_in = static_cast<uInt>(packed.size());
  zs.next_out = reinterpret_cast<Bytef*>(plain.data());
  zs.avail_out = static_cast<uInt>(plain.size());
  const int rc = inflate(&zs, Z_FINISH);
  plain.resize(zs.total_out);
  inflateEnd(&zs);
  CHECK(rc == Z_STREAM_END);
  CHECK(plain == text);
}

TEST_CASE("gzip_decompress does not trust a member's stated size", "[net][gzip]") {
  const std::string text(300000, 'k');
  const std::string packed = gzip_compress(text);
  auto with_isize = [&](std::uint32_t isize) {
    std::string forged = packed;
    for (int i = 0; i < 4; ++i) {
      forged[forged.size() - 4 + i] = static_cast<char>((isize >> (8 * i)) & 0xff);
    }
    return forged;
  };
  SECTION("a size too small: the output still grows to the whole member, then the check fails") {
    // libdeflate verifies ISIZE after inflating: a lie is corrupt input, never a short result.
    auto r = gzip_decompress(with_isize(10), 1 << 20);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "gzip");
  }
  SECTION("a size far too large: refused without allocating it") {
    auto r = gzip_decompress(with_isize(0xFFFFFFF0u), std::size_t{1} << 40);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "gzip");
  }
  SECTION("members that differ in size are each inflated whole") {
    const std::string small = gzip_compress("tiny");
    auto r = gzip_decompress(packed + small + packed, 1 << 20);
    REQUIRE(r.has_value());
    CHECK(*r == text + "tiny" + text);
    auto limited = gzip_decompress(packed + small + packed, 2 * text.size() + 3);
    REQUIRE_FALSE(limited.has_value());
    CHECK(limited.error().field == "max_output");
  }
}
