// gzip_compress / gzip_decompress: round trips, corrupt and truncated input, the output limit.
#include <catch2/catch.hpp>

#include <synccore/net/gzip.hpp>

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
