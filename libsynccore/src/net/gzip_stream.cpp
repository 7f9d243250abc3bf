// gzip_stream: one gzip member produced piece by piece through zlib's deflate with windowBits
// 15+16 (gzip wrapper), for bodies sent while they are still being read (streamed v1 pulls).
// libdeflate, which compresses whole buffers (gzip.cpp), cannot do this. The z_stream is owned
// by a small RAII holder so every exit path calls deflateEnd.
#include <synccore/net/gzip.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <stdexcept>

namespace synccore::net {
namespace {

constexpr int gzip_window_bits = 15 + 16;
constexpr std::size_t chunk_size = 64 * 1024;
constexpr std::size_t max_zlib_chunk = std::numeric_limits<uInt>::max();

// z_stream's pointers are non-const for historical reasons; zlib never writes through next_in.
Bytef* input_pointer(const char* data) { return reinterpret_cast<Bytef*>(const_cast<char*>(data)); }

class deflater {
 public:
  deflater() {
    const int rc = deflateInit2_(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, 8,
                                 Z_DEFAULT_STRATEGY, ZLIB_VERSION, static_cast<int>(sizeof zs_));
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK) throw std::runtime_error("zlib deflateInit2 failed");
  }
  ~deflater() { deflateEnd(&zs_); }
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;
  z_stream& get() noexcept { return zs_; }

 private:
  z_stream zs_{};
};

// Feeds all of `data` to `zs` and appends the output to `out`; with `finish`, ends the member.
void deflate_into(z_stream& zs, std::string_view data, bool finish, std::string& out) {
  std::array<char, chunk_size> buffer{};
  std::size_t offset = 0;
  int rc = Z_OK;
  do {
    const std::size_t take = std::min(data.size() - offset, max_zlib_chunk);
    zs.next_in = input_pointer(data.data() + offset);
    zs.avail_in = static_cast<uInt>(take);
    offset += take;
    const int flush = finish && offset == data.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buffer.data());
      zs.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib deflate failed");
      out.append(buffer.data(), buffer.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (offset < data.size());
  if (finish && rc != Z_STREAM_END) throw std::runtime_error("zlib deflate did not finish");
}

}  // namespace

struct gzip_stream::state {
  deflater d;
  bool finished = false;
};

gzip_stream::gzip_stream() : state_(std::make_unique<state>()) {}
gzip_stream::~gzip_stream() = default;
gzip_stream::gzip_stream(gzip_stream&&) noexcept = default;
gzip_stream& gzip_stream::operator=(gzip_stream&&) noexcept = default;

std::string gzip_stream::compress(std::string_view data, bool finish) {
  if (state_->finished) throw std::logic_error("gzip_stream::compress after finish");
  std::string out;
  deflate_into(state_->d.get(), data, finish, out);
  state_->finished = finish;
  return out;
}

}  // namespace synccore::net
