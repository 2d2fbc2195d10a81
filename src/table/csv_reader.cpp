// CSV reader: memory-mapped input, split into row-aligned chunks parsed in parallel, then merged.
//
// Chunk boundaries are chosen from quote parity (a newline after an even number of quotes is a
// row boundary in RFC 4180 text). Each chunk is parsed independently and must end exactly at the
// next chunk's start; a quote inside an unquoted field breaks the parity rule, so a chunk that
// overruns its end makes the rest of the file be parsed again on one thread. Errors found in a
// chunk are kept, not thrown, until every earlier chunk is known to be aligned, so a misaligned
// chunk never reports a spurious error. Line numbers are counted from the start of the buffer
// when an error is reported, which keeps them right whatever the chunking.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include <fast_float/fast_float.h>

#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "table/csv_dict.hpp"

namespace compe {

namespace {

namespace fs = std::filesystem;

// Ordered by generality: a column only ever moves to a later kind.
enum class Kind : std::uint8_t { kInt = 0, kFloat = 1, kStr = 2 };

constexpr std::size_t kMinParallelBytes = std::size_t{1} << 20;
constexpr std::size_t kChunksPerThread = 4;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class MappedFile {
 public:
  MappedFile(const fs::path& path, const std::string& shown) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) fail(ErrorCode::kNotFound, "{}: no such file", shown);
      fail(ErrorCode::kIo, "{}: cannot open for reading: {}", shown, std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      fail(ErrorCode::kIo, "{}: cannot read: {}", shown, std::strerror(err));
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      fail(ErrorCode::kIo, "{}: is a folder, expected a file", shown);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (addr == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        fail(ErrorCode::kIo, "{}: cannot map into memory: {}", shown, std::strerror(err));
      }
      addr_ = addr;
      ::madvise(addr_, size_, MADV_WILLNEED);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (addr_) ::munmap(addr_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view data() const {
    return addr_ ? std::string_view(static_cast<const char*>(addr_), size_) : std::string_view();
  }

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

// A problem found while parsing, before its line number is known.
struct RawError {
  const char* at;     // the byte the line number is taken from
  std::size_t field;  // 1-based field number; 0 when the problem concerns the whole row
  std::string what;
  bool unterminated_quote = false;
};

struct Field {
  std::string_view text;
  bool stable = true;  // text points into the input (not into scratch)
};

struct Context {
  std::string_view name;
  const char* begin = nullptr;  // whole input, BOM included (line numbers count from here)
  const char* end = nullptr;
  char delim = ',';
  std::vector<std::string> columns;
  std::vector<std::string> na_values;
  bool na_empty = false;
  bool fast_numbers = true;
  std::vector<std::optional<DType>> forced;

  bool is_terminator(const char* p) const {
    if (p == end) return true;
    char c = *p;
    return c == delim || c == '\n' || (c == '\r' && (p + 1 == end || p[1] == '\n'));
  }
  // The position after the line ending at p (p at '\n', '\r' of "\r\n", or end).
  const char* skip_eol(const char* p) const {
    if (p == end) return p;
    if (*p == '\r') ++p;
    return p == end ? p : p + 1;
  }
  bool is_na(std::string_view s) const {
    for (const auto& v : na_values)
      if (v.size() == s.size() && v == s) return true;
    return false;
  }
  std::string describe_column(std::size_t field) const {
    if (field == 0 || field > columns.size()) return fmt::format("field {}", field);
    return fmt::format("column '{}'", columns[field - 1]);
  }

  // Scans one field starting at p and returns its terminator (delimiter, line end or end).
  const char* scan_field(const char* p, Field& f, std::string& scratch, std::size_t field) const {
    if (p < end && *p == '"') {
      const char* open = p;
      const char* s = p + 1;
      bool doubled = false;
      for (p = s;;) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (!q) throw RawError{open, field, describe_column(field), true};
        if (q + 1 < end && q[1] == '"') {
          doubled = true;
          p = q + 2;
          continue;
        }
        if (doubled) {
          scratch.clear();
          for (const char* c = s; c < q; ++c) {
            scratch.push_back(*c);
            if (*c == '"') ++c;
          }
          f.text = scratch;
          f.stable = false;
        } else {
          f.text = std::string_view(s, static_cast<std::size_t>(q - s));
          f.stable = true;
        }
        p = q + 1;
        if (!is_terminator(p))
          throw RawError{p, field,
                         fmt::format("{}: unexpected '{}' after the closing quote; expected '{}' or "
                                     "the end of the line",
                                     describe_column(field), printable(*p), delim)};
        return p;
      }
    }
    const char* s = p;
    while (p < end) {
      char c = *p;
      if (c == delim || c == '\n') break;
      if (c == '\r' && (p + 1 == end || p[1] == '\n')) break;
      ++p;
    }
    f.text = std::string_view(s, static_cast<std::size_t>(p - s));
    f.stable = true;
    return p;
  }

  static std::string printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return fmt::format("\\x{:02x}", u);
    return std::string(1, c);
  }

  [[noreturn]] void report(const RawError& e) const {
    std::size_t line = 1 + static_cast<std::size_t>(std::count(begin, e.at, '\n'));
    if (e.unterminated_quote)
      fail(ErrorCode::kParse,
           "{}:{}:{}: unterminated quote: the quoted field of {} opened at line {} has no closing "
           "quote; expected '\"' before the end of the file",
           name, line, e.field, e.what, line);
    if (e.field == 0) fail(ErrorCode::kParse, "{}:{}: {}", name, line, e.what);
    fail(ErrorCode::kParse, "{}:{}:{}: {}", name, line, e.field, e.what);
  }
};

bool parse_int_text(std::string_view s, std::int64_t& out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_float_text(std::string_view s, double& out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = fast_float::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Up to 18 digits with an optional '-': cannot overflow. Longer numbers take the slow path.
inline const char* parse_int_fast(const char* p, const char* end, std::int64_t& out) {
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  const char* s = p;
  std::uint64_t v = 0;
  while (p < end) {
    unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - unsigned{'0'};
    if (d > 9) break;
    v = v * 10 + d;
    ++p;
  }
  auto n = p - s;
  if (n == 0 || n > 18) return nullptr;
  out = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return p;
}

struct ColumnBuild {
  Kind kind = Kind::kInt;
  std::vector<std::int64_t> i64;
  std::vector<std::uint8_t> missing;  // kInt: 1 = missing
  std::vector<double> f64;
  std::vector<std::int32_t> codes;
  csv::StringDict dict;

  void reset(Kind k, std::size_t reserve) {
    kind = k;
    i64.clear();
    missing.clear();
    f64.clear();
    codes.clear();
    dict.clear();
    switch (k) {
      case Kind::kInt:
        i64.reserve(reserve);
        missing.reserve(reserve);
        break;
      case Kind::kFloat: f64.reserve(reserve); break;
      case Kind::kStr: codes.reserve(reserve); break;
    }
  }

  void push_missing() {
    switch (kind) {
      case Kind::kInt:
        i64.push_back(0);
        missing.push_back(1);
        break;
      case Kind::kFloat: f64.push_back(kNaN); break;
      case Kind::kStr: codes.push_back(-1); break;
    }
  }

  void int_to_float() {
    f64.resize(i64.size());
    for (std::size_t i = 0; i < i64.size(); ++i)
      f64[i] = missing[i] ? kNaN : static_cast<double>(i64[i]);
    f64.reserve(i64.capacity());
    std::vector<std::int64_t>().swap(i64);
    std::vector<std::uint8_t>().swap(missing);
    kind = Kind::kFloat;
  }
};

struct Chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  const char* stop = nullptr;  // where parsing stopped; == end when the chunk was aligned
  std::size_t rows = 0;
  std::vector<ColumnBuild> cols;
  std::optional<RawError> error;
};

class ChunkParser {
 public:
  ChunkParser(const Context& ctx, Chunk& chunk) : ctx_(ctx), chunk_(chunk) {}

  // Parses the chunk with columns starting at `kinds` (which may only become more general).
  void run(std::vector<Kind> kinds) {
    chunk_.error.reset();
    std::size_t reserve = estimate_rows();
    try {
      for (;;) {
        chunk_.cols.resize(kinds.size());
        for (std::size_t j = 0; j < kinds.size(); ++j) chunk_.cols[j].reset(kinds[j], reserve);
        chunk_.rows = 0;
        // A column that turns out to hold text restarts the chunk: its earlier cells were not kept.
        std::optional<std::size_t> to_text = parse_rows();
        if (!to_text) break;
        for (std::size_t j = 0; j < kinds.size(); ++j) kinds[j] = chunk_.cols[j].kind;
        kinds[*to_text] = Kind::kStr;
      }
    } catch (RawError& e) {
      chunk_.error = std::move(e);
    }
  }

 private:
  std::size_t estimate_rows() const {
    std::size_t size = static_cast<std::size_t>(chunk_.end - chunk_.begin);
    std::size_t sample = std::min<std::size_t>(size, 1 << 16);
    if (sample == 0) return 0;
    auto lines = static_cast<std::size_t>(std::count(chunk_.begin, chunk_.begin + sample, '\n'));
    if (lines == 0) return 16;
    return static_cast<std::size_t>(static_cast<double>(size) / static_cast<double>(sample) *
                                    static_cast<double>(lines) * 1.05) + 16;
  }

  // Returns the column that must become text (restart), or nullopt when the chunk is done.
  std::optional<std::size_t> parse_rows() {
    const Context& ctx = ctx_;
    const char* const end = ctx.end;
    const char delim = ctx.delim;
    const std::size_t ncols = chunk_.cols.size();
    const bool fast = ctx.fast_numbers;
    const char* p = chunk_.begin;
    std::size_t rows = 0;
    while (p < chunk_.end) {
      const char* row_start = p;
      if (ncols > 1 && (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n')))) {
        p = ctx.skip_eol(p);  // blank line
        continue;
      }
      for (std::size_t j = 0; j < ncols; ++j) {
        ColumnBuild& c = chunk_.cols[j];
        const char* t = nullptr;
        if (c.kind == Kind::kInt && fast) {
          std::int64_t v;
          const char* q = parse_int_fast(p, end, v);
          if (q && ctx.is_terminator(q)) {
            c.i64.push_back(v);
            c.missing.push_back(0);
            t = q;
          } else if (ctx.is_terminator(p)) {
            c.push_missing();
            t = p;
          }
        } else if (c.kind == Kind::kFloat && fast) {
          if (ctx.is_terminator(p)) {
            c.f64.push_back(kNaN);
            t = p;
          } else {
            double v;
            auto r = fast_float::from_chars(p, end, v);
            if (r.ec == std::errc() && ctx.is_terminator(r.ptr)) {
              c.f64.push_back(v);
              t = r.ptr;
            }
          }
        }
        if (!t) {
          Field f;
          t = ctx.scan_field(p, f, scratch_, j + 1);
          if (!store(c, j, f, p)) return j;
        }
        if (t < end && *t == delim) {
          if (j + 1 == ncols) too_many(row_start, t);
          p = t + 1;
        } else {
          if (j + 1 < ncols)
            throw RawError{row_start, j + 2,
                           fmt::format("expected {} fields, found {} (the row ends before {})",
                                       ncols, j + 1, ctx.describe_column(j + 2))};
          p = ctx.skip_eol(t);
        }
      }
      ++rows;
    }
    chunk_.rows = rows;
    chunk_.stop = p;
    return std::nullopt;
  }

  // Stores a cell found by the general scanner. False when the column must become text.
  bool store(ColumnBuild& c, std::size_t j, const Field& f, const char* at) {
    const Context& ctx = ctx_;
    std::string_view s = f.text;
    if ((s.empty() && (c.kind != Kind::kStr || ctx.na_empty)) || ctx.is_na(s)) {
      c.push_missing();
      return true;
    }
    const std::optional<DType>& forced = ctx.forced[j];
    switch (c.kind) {
      case Kind::kInt: {
        std::int64_t v;
        if (parse_int_text(s, v)) {
          c.i64.push_back(v);
          c.missing.push_back(0);
          return true;
        }
        if (forced) bad_cell(j, s, at, "an integer");
        double d;
        if (parse_float_text(s, d)) {
          c.int_to_float();
          c.f64.push_back(d);
          return true;
        }
        return false;
      }
      case Kind::kFloat: {
        double d;
        if (parse_float_text(s, d)) {
          c.f64.push_back(d);
          return true;
        }
        if (forced) bad_cell(j, s, at, "a number");
        return false;
      }
      case Kind::kStr: c.codes.push_back(c.dict.intern(s, f.stable)); return true;
    }
    return true;
  }

  [[noreturn]] void bad_cell(std::size_t j, std::string_view s, const char* at,
                             std::string_view expected) const {
    DType t = *ctx_.forced[j];
    throw RawError{at, j + 1,
                   fmt::format("column '{}' is {} (set in dtypes): expected {}, found '{}'",
                               ctx_.columns[j], dtype_name(t), expected, s)};
  }

  [[noreturn]] void too_many(const char* row_start, const char* t) {
    const Context& ctx = ctx_;
    std::size_t n = ctx_.columns.size();
    const char* p = t;
    while (p < ctx.end && *p == ctx.delim) {
      Field f;
      p = ctx.scan_field(p + 1, f, scratch_, n + 1);
      ++n;
    }
    throw RawError{row_start, ctx.columns.size() + 1,
                   fmt::format("expected {} fields, found {}", ctx.columns.size(), n)};
  }

  const Context& ctx_;
  Chunk& chunk_;
  std::string scratch_;
};

bool valid_utf8(std::string_view s, std::size_t& bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    unsigned c = p[i];
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      bad = i;
      return false;
    }
    if (i + len > n) {
      bad = i;
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) {
        bad = i;
        return false;
      }
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      bad = i;
      return false;
    }
    i += len;
  }
  return true;
}

// Parses the header; returns the start of the first data row.
const char* parse_header(Context& ctx, const char* p) {
  const char* end = ctx.end;
  while (p < end && (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'))))
    p = ctx.skip_eol(p);
  const char* header = p;
  if (p == end)
    fail(ErrorCode::kParse, "{}:1: empty file; expected a header row with the column names",
         ctx.name);
  std::string scratch;
  std::unordered_map<std::string_view, std::size_t> seen;
  for (;;) {
    Field f;
    std::size_t field = ctx.columns.size() + 1;
    const char* t = ctx.scan_field(p, f, scratch, field);
    std::size_t bad = 0;
    if (!valid_utf8(f.text, bad))
      ctx.report(RawError{p, field,
                          fmt::format("invalid UTF-8 in the name of column {} (byte 0x{:02x} at "
                                      "offset {} of the name); expected UTF-8 text",
                                      field, static_cast<unsigned char>(f.text[bad]), bad)});
    ctx.columns.emplace_back(f.text);
    if (t < end && *t == ctx.delim) {
      p = t + 1;
    } else {
      p = ctx.skip_eol(t);
      break;
    }
  }
  for (std::size_t j = 0; j < ctx.columns.size(); ++j) {
    auto [it, inserted] = seen.emplace(ctx.columns[j], j);
    if (!inserted)
      fail(ErrorCode::kParse,
           "{}:{}:{}: duplicate column name '{}' (also column {}); expected unique names",
           ctx.name, 1 + std::count(ctx.begin, header, '\n'), j + 1, ctx.columns[j], it->second + 1);
  }
  return p;
}

// Splits [begin, end) into at most n row-aligned chunks (see the file comment).
std::vector<Chunk> split_chunks(const Context& ctx, const char* begin, std::size_t n,
                                std::size_t threads) {
  const char* end = ctx.end;
  std::size_t size = static_cast<std::size_t>(end - begin);
  std::vector<Chunk> chunks;
  if (size == 0) return chunks;
  if (n <= 1) {
    chunks.push_back(Chunk{begin, end});
    return chunks;
  }
  std::vector<const char*> nominal(n + 1);
  for (std::size_t i = 0; i <= n; ++i) nominal[i] = begin + size / n * i;
  nominal[n] = end;
  std::vector<std::size_t> quotes(n);
  parallel_for(n, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      quotes[i] = static_cast<std::size_t>(std::count(nominal[i], nominal[i + 1], '"'));
  });
  std::vector<const char*> cut{begin};
  std::size_t parity = 0;  // quotes in [begin, nominal[i])
  for (std::size_t i = 1; i < n; ++i) {
    parity += quotes[i - 1];
    // When the previous cut lies past this nominal point, it is also the cut for this one.
    if (nominal[i] < cut.back()) continue;
    bool in_quotes = (parity % 2) == 1;
    const char* p = nominal[i];
    for (; p < end; ++p) {
      if (*p == '"') {
        in_quotes = !in_quotes;
      } else if (*p == '\n' && !in_quotes) {
        ++p;
        break;
      }
    }
    if (p > cut.back() && p < end) cut.push_back(p);
  }
  cut.push_back(end);
  for (std::size_t i = 0; i + 1 < cut.size(); ++i) chunks.push_back(Chunk{cut[i], cut[i + 1]});
  return chunks;
}

Table build_table(const Context& ctx, std::vector<Chunk>& chunks, const std::vector<Kind>& kinds,
                  std::size_t threads) {
  const std::size_t ncols = ctx.columns.size();
  std::vector<std::size_t> offsets(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) offsets[i + 1] = offsets[i] + chunks[i].rows;
  const std::size_t total = offsets.back();
  std::vector<Column> columns(ncols);
  parallel_for(ncols, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      Column& col = columns[j];
      col.name = ctx.columns[j];
      switch (kinds[j]) {
        case Kind::kFloat: {
          col.type = DType::kFloat64;
          if (chunks.size() == 1 && chunks[0].cols[j].kind == Kind::kFloat) {
            col.f64 = std::move(chunks[0].cols[j].f64);
            break;
          }
          col.f64.resize(total);
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            ColumnBuild& c = chunks[i].cols[j];
            double* out = col.f64.data() + offsets[i];
            if (c.kind == Kind::kFloat) {
              std::copy(c.f64.begin(), c.f64.end(), out);
            } else {
              for (std::size_t r = 0; r < c.i64.size(); ++r)
                out[r] = c.missing[r] ? kNaN : static_cast<double>(c.i64[r]);
            }
            std::vector<double>().swap(c.f64);
          }
          break;
        }
        case Kind::kInt: {
          col.type = DType::kInt64;
          if (chunks.size() == 1) {
            col.i64 = std::move(chunks[0].cols[j].i64);
            col.missing = std::move(chunks[0].cols[j].missing);
          } else {
            col.i64.resize(total);
            col.missing.resize(total);
            for (std::size_t i = 0; i < chunks.size(); ++i) {
              ColumnBuild& c = chunks[i].cols[j];
              std::copy(c.i64.begin(), c.i64.end(), col.i64.begin() + static_cast<std::ptrdiff_t>(offsets[i]));
              std::copy(c.missing.begin(), c.missing.end(),
                        col.missing.begin() + static_cast<std::ptrdiff_t>(offsets[i]));
              std::vector<std::int64_t>().swap(c.i64);
              std::vector<std::uint8_t>().swap(c.missing);
            }
          }
          if (std::find(col.missing.begin(), col.missing.end(), 1) == col.missing.end())
            std::vector<std::uint8_t>().swap(col.missing);
          break;
        }
        case Kind::kStr: {
          col.type = DType::kString;
          col.codes.resize(total);
          csv::StringDict dict;
          std::vector<std::int32_t> remap;
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            ColumnBuild& c = chunks[i].cols[j];
            COMPE_ASSERT(c.kind == Kind::kStr);
            remap.resize(c.dict.size());
            for (std::size_t k = 0; k < c.dict.size(); ++k)
              remap[k] = dict.intern(c.dict.values()[k], true);
            std::int32_t* out = col.codes.data() + offsets[i];
            for (std::size_t r = 0; r < c.codes.size(); ++r)
              out[r] = c.codes[r] < 0 ? -1 : remap[static_cast<std::size_t>(c.codes[r])];
          }
          col.dict.reserve(dict.size());
          for (auto v : dict.values()) col.dict.emplace_back(v);
          break;
        }
      }
    }
  });
  Table table;
  table.source = std::string(ctx.name);
  for (auto& c : columns) table.add_column(std::move(c));
  return table;
}

Table parse(std::string_view data, std::string_view name, const CsvReadOptions& options) {
  Context ctx;
  ctx.name = name;
  ctx.begin = data.data();
  ctx.end = data.data() + data.size();
  ctx.delim = options.delimiter;
  ctx.na_values = options.na_values;
  if (ctx.delim == '"' || ctx.delim == '\n' || ctx.delim == '\r')
    fail(ErrorCode::kInvalidArgument, "{}: the CSV delimiter cannot be a quote or a line break",
         name);
  for (const auto& v : ctx.na_values) {
    if (v.empty()) ctx.na_empty = true;
    double d;
    std::int64_t i;
    // A numeric-looking NA marker (say "-999") must be checked on every cell: no fast path.
    if (parse_int_text(v, i) || (parse_float_text(v, d) && !std::isnan(d))) ctx.fast_numbers = false;
  }

  const char* p = ctx.begin;
  if (data.starts_with("\xEF\xBB\xBF")) p += 3;
  p = parse_header(ctx, p);
  const std::size_t ncols = ctx.columns.size();

  ctx.forced.assign(ncols, std::nullopt);
  std::vector<Kind> kinds(ncols, Kind::kInt);
  for (const auto& [col, type] : options.dtypes) {
    auto it = std::find(ctx.columns.begin(), ctx.columns.end(), col);
    if (it == ctx.columns.end()) {
      std::string hint = closest_match(col, ctx.columns);
      fail(ErrorCode::kNotFound, "{}: dtypes names column '{}', which is not in the header{}; columns are: {}",
           name, col, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
           join(ctx.columns));
    }
    auto j = static_cast<std::size_t>(it - ctx.columns.begin());
    ctx.forced[j] = type;
    kinds[j] = type == DType::kInt64 ? Kind::kInt : type == DType::kFloat64 ? Kind::kFloat : Kind::kStr;
  }

  const std::size_t threads = resolve_threads(options.threads);
  const std::size_t body = static_cast<std::size_t>(ctx.end - p);
  std::size_t n = 1;
  if (options.chunk_bytes > 0)
    n = std::max<std::size_t>(1, (body + options.chunk_bytes - 1) / options.chunk_bytes);
  else if (threads > 1 && body >= kMinParallelBytes)
    n = std::min(threads * kChunksPerThread, body / (kMinParallelBytes / 4));
  std::vector<Chunk> chunks = split_chunks(ctx, p, n, threads);

  auto parse_all = [&](const std::vector<std::size_t>& which, const std::vector<Kind>& start) {
    std::atomic<std::size_t> next{0};
    std::size_t t = std::min(threads, which.size());
    parallel_for(t, t, [&](std::size_t, std::size_t) {
      for (std::size_t i = next++; i < which.size(); i = next++)
        ChunkParser(ctx, chunks[which[i]]).run(start);
    });
  };
  std::vector<std::size_t> all(chunks.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  parse_all(all, kinds);

  // Check alignment and errors in file order.
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].error) ctx.report(*chunks[i].error);
    if (chunks[i].stop != chunks[i].end) {
      chunks.resize(i + 1);
      chunks[i].end = ctx.end;
      ChunkParser(ctx, chunks[i]).run(kinds);
      if (chunks[i].error) ctx.report(*chunks[i].error);
      break;
    }
  }

  std::vector<Kind> final_kinds = kinds;
  for (const auto& c : chunks)
    for (std::size_t j = 0; j < ncols; ++j) final_kinds[j] = std::max(final_kinds[j], c.cols[j].kind);
  // Chunks that saw only numbers in a column that is text elsewhere did not keep the text.
  std::vector<std::size_t> redo;
  for (std::size_t i = 0; i < chunks.size(); ++i)
    for (std::size_t j = 0; j < ncols; ++j)
      if (final_kinds[j] == Kind::kStr && chunks[i].cols[j].kind != Kind::kStr) {
        redo.push_back(i);
        break;
      }
  if (!redo.empty()) {
    parse_all(redo, final_kinds);
    for (std::size_t i : redo)
      if (chunks[i].error) ctx.report(*chunks[i].error);
  }
  return build_table(ctx, chunks, final_kinds, threads);
}

}  // namespace

Table read_csv(const std::filesystem::path& path, const CsvReadOptions& options) {
  std::string name = options.display_name.empty() ? path.string() : options.display_name;
  MappedFile file(path, name);
  return parse(file.data(), name, options);
}

Table read_csv_string(std::string_view data, std::string_view name, const CsvReadOptions& options) {
  std::string shown = options.display_name.empty() ? std::string(name) : options.display_name;
  return parse(data, shown, options);
}

}  // namespace compe
