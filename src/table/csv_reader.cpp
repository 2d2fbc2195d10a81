// CSV reader: memory-mapped input, split into row-aligned chunks parsed in parallel, then merged.
//
// Chunk boundaries are chosen from quote parity (a newline after an even number of quotes is a
// row boundary in RFC 4180 text). Each chunk is parsed independently and must end exactly at the
// next chunk's start; a quote inside an unquoted field breaks the parity rule, so a chunk that
// overruns its end makes the rest of the file be parsed again on one thread. Errors found in a
// chunk are kept, not thrown, until every earlier chunk is known to be aligned, so a misaligned
// chunk never reports a spurious error. Line numbers are counted from the start of the buffer
// when an error is reported, which keeps them right whatever the chunking.
//
// The final columns are allocated before parsing, at the types the first rows suggest and with
// room for one row per line. Each chunk writes the columns whose type matches that guess straight
// into them, at a provisional offset (the line count of the chunks before it); merging then only
// moves rows down where earlier chunks had blank lines or quoted newlines, converts the chunks
// that disagree (int64 cells of a float64 column), and maps each chunk's string codes to the
// table's dictionary, built chunk by chunk in file order so first-seen order is kept.

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
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
      if (err == ENAMETOOLONG)
        fail(ErrorCode::kInvalidArgument, "{}: the path is too long ({} bytes; the system takes at most {} "
             "bytes in a name and {} in a path)", shown, path.string().size(), NAME_MAX, PATH_MAX);
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
  std::uint64_t na_lengths = 0;  // bit n set: some NA marker has n bytes (n < 64)
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
    if (s.size() < 64 && !((na_lengths >> s.size()) & 1)) return false;
    for (const auto& v : na_values)
      if (v.size() == s.size() && v == s) return true;
    return false;
  }
  std::string describe_column(std::size_t field) const {
    if (field == 0 || field > columns.size()) return fmt::format("field {}", field);
    return fmt::format("column {}", quote(columns[field - 1]));
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
           "{}:{}:{}: unterminated quote in {}: the quote opened at line {} is never closed; "
           "expected a closing '\"' before the end of the file",
           name, line, e.field, e.what, line);
    if (e.field == 0) fail(ErrorCode::kParse, "{}:{}: {}", name, line, e.what);
    fail(ErrorCode::kParse, "{}:{}:{}: {}", name, line, e.field, e.what);
  }
};

// The first delimiter, '\n' or '\r' at or after p (or end), eight bytes at a time.
inline const char* find_special(const char* p, const char* end, char delim) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const std::uint64_t d = kOnes * static_cast<unsigned char>(delim);
  const std::uint64_t n = kOnes * static_cast<unsigned char>('\n');
  const std::uint64_t r = kOnes * static_cast<unsigned char>('\r');
  auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    // The lowest flagged byte is exact (borrows only flag bytes above a real match).
    std::uint64_t m = zero_bytes(w ^ d) | zero_bytes(w ^ n) | zero_bytes(w ^ r);
    if (m) return p + (__builtin_ctzll(m) >> 3);
    p += 8;
  }
  while (p < end && *p != delim && *p != '\n' && *p != '\r') ++p;
  return p;
}

// std::count with a narrow accumulator per block, which compilers vectorise well.
std::size_t count_byte(const char* p, const char* end, char c) {
  std::size_t total = 0;
  while (p < end) {
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(end - p), 4096);
    std::uint32_t block = 0;
    for (std::size_t i = 0; i < n; ++i) block += p[i] == c ? 1 : 0;
    total += block;
    p += n;
  }
  return total;
}

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

// The number of leading ASCII digits in the eight bytes of w (in memory order) and their value.
inline unsigned leading_digits(std::uint64_t w, std::uint64_t& value) {
  const std::uint64_t hi = w & 0xF0F0F0F0F0F0F0F0ULL;
  const std::uint64_t hi6 = (w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL;
  // Non-zero bytes are not digits; carries only reach bytes above a non-digit.
  const std::uint64_t bad = (hi ^ 0x3030303030303030ULL) | (hi6 ^ 0x3030303030303030ULL);
  const unsigned nd = bad ? static_cast<unsigned>(__builtin_ctzll(bad)) >> 3 : 8;
  if (nd == 0) {
    value = 0;
    return 0;
  }
  // Keep the nd digits as the low end of an eight-digit number with leading zeros, then combine
  // pairs, quads and the two halves.
  std::uint64_t v = (w - 0x3030303030303030ULL) << ((8 - nd) * 8);
  v = (v * 10) + (v >> 8);
  v = (((v & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
       (((v >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
  value = static_cast<std::uint32_t>(v);
  return nd;
}

constexpr std::uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// Appends the digits at p to m (which may wrap past 19 digits: callers reject those) and counts
// them; returns the first non-digit.
inline const char* read_digits(const char* p, const char* end, std::uint64_t& m, std::ptrdiff_t& count) {
  while (end - p >= 8) {
    std::uint64_t w, v;
    std::memcpy(&w, p, 8);
    unsigned nd = leading_digits(w, v);
    m = m * kPow10Int[nd] + v;
    p += nd;
    count += nd;
    if (nd < 8) return p;
  }
  while (p < end) {
    unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - unsigned{'0'};
    if (d > 9) break;
    m = m * 10 + d;
    ++p;
    ++count;
  }
  return p;
}

// Up to 18 digits with an optional '-': cannot overflow. Longer numbers take the slow path.
inline const char* parse_int_fast(const char* p, const char* end, std::int64_t& out) {
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  std::uint64_t v = 0;
  std::ptrdiff_t n = 0;
  p = read_digits(p, end, v, n);
  if (n == 0 || n > 18) return nullptr;
  out = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return p;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// "[-]digits[.digits]" whose digits form an integer m <= 2^53 (at most 19 digits): the value
// m / 10^k is then one correctly rounded division of two exact doubles, hence exact (the same
// fast path fast_float takes, without its general parsing). Anything else returns nullptr.
inline const char* parse_decimal_fast(const char* p, const char* end, double& out) {
  bool neg = false;
  if (p < end && *p == '-') {
    neg = true;
    ++p;
  }
  std::uint64_t m = 0;
  std::ptrdiff_t digits = 0;
  p = read_digits(p, end, m, digits);
  std::ptrdiff_t frac = 0;
  if (p < end && *p == '.') {
    p = read_digits(p + 1, end, m, frac);
    digits += frac;
  }
  if (digits == 0 || digits > 19 || m > (std::uint64_t{1} << 53)) return nullptr;
  double v = static_cast<double>(m);
  if (frac) v /= kPow10[frac];
  out = neg ? -v : v;
  return p;
}

// Asks for transparent huge pages on a large allocation: far fewer page faults when it is first
// written. Advisory only.
void advise_huge(void* p, std::size_t bytes) {
  constexpr std::size_t kPage = 4096;
  if (bytes < (std::size_t{4} << 20)) return;
  auto b = (reinterpret_cast<std::uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
  auto e = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kPage - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

// Storage for the cells of one column of a chunk: either a region of the table's final column
// (when the chunk's type for the column is the one guessed up front) or a buffer of its own.
// Never zero-filled: every cell up to the row count is written.
template <typename T>
class CellBuffer {
 public:
  void allocate(std::size_t cap) {
    std::size_t bytes = std::max<std::size_t>(cap, 1) * sizeof(T);
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    void* raw = bytes >= kHuge ? std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge)
                               : std::malloc(bytes);
    if (!raw) throw std::bad_alloc();
    advise_huge(raw, bytes);
    owned_.reset(static_cast<T*>(raw));
    ptr_ = owned_.get();
  }
  void attach(T* external) {
    owned_.reset();
    ptr_ = external;
  }
  void release() {
    owned_.reset();
    ptr_ = nullptr;
  }
  T& operator[](std::size_t i) { return ptr_[i]; }
  T* data() const { return ptr_; }
  bool external() const { return ptr_ && !owned_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> owned_;
  T* ptr_ = nullptr;
};

// Where a chunk writes a column of the guessed type: pointers into the final column at the
// chunk's provisional row offset (null when the column was guessed as another type).
struct ColumnTarget {
  Kind kind = Kind::kInt;
  std::int64_t* i64 = nullptr;
  std::uint8_t* missing = nullptr;
  double* f64 = nullptr;
  std::int32_t* codes = nullptr;
};

struct ColumnBuild {
  Kind kind = Kind::kInt;
  CellBuffer<std::int64_t> i64;
  CellBuffer<std::uint8_t> missing;  // kInt: 1 = missing
  CellBuffer<double> f64;
  CellBuffer<std::int32_t> codes;
  csv::StringDict dict;
  ColumnTarget target;

  void reset(Kind k, std::size_t cap) {
    kind = k;
    i64.release();
    missing.release();
    f64.release();
    codes.release();
    dict.clear();
    switch (k) {
      case Kind::kInt:
        place(i64, target.i64, cap);
        place(missing, target.missing, cap);
        break;
      case Kind::kFloat: place(f64, target.f64, cap); break;
      case Kind::kStr: place(codes, target.codes, cap); break;
    }
  }

  void set_missing(std::size_t r) {
    switch (kind) {
      case Kind::kInt:
        i64[r] = 0;
        missing[r] = 1;
        break;
      case Kind::kFloat: f64[r] = kNaN; break;
      case Kind::kStr: codes[r] = -1; break;
    }
  }

  void int_to_float(std::size_t rows, std::size_t cap) {
    place(f64, target.f64, cap);
    for (std::size_t i = 0; i < rows; ++i) f64[i] = missing[i] ? kNaN : static_cast<double>(i64[i]);
    i64.release();
    missing.release();
    kind = Kind::kFloat;
  }

 private:
  template <typename T>
  static void place(CellBuffer<T>& buf, T* external, std::size_t cap) {
    if (external)
      buf.attach(external);
    else
      buf.allocate(cap);
  }
};

struct Chunk {
  const char* begin = nullptr;
  const char* end = nullptr;
  const char* stop = nullptr;  // where parsing stopped; == end when the chunk was aligned
  std::size_t rows = 0;
  // Provisional placement: rows of earlier chunks are at most their line count (+1), so the chunk
  // may write at row `first` of the final columns, `cap` rows at most.
  std::size_t first = 0;
  std::size_t cap = 0;
  std::vector<ColumnBuild> cols;
  std::optional<RawError> error;
};

// The table's columns, allocated before parsing at their guessed types and an upper bound of rows.
struct Output {
  Kind guess = Kind::kInt;
  std::vector<std::int64_t> i64;
  std::vector<std::uint8_t> missing;
  std::vector<double> f64;
  std::vector<std::int32_t> codes;
};

class ChunkParser {
 public:
  ChunkParser(const Context& ctx, Chunk& chunk, std::vector<Output>* outputs)
      : ctx_(ctx), chunk_(chunk), outputs_(outputs) {}

  // Parses the chunk with columns starting at `kinds` (which may only become more general).
  void run(std::vector<Kind> kinds) {
    chunk_.error.reset();
    chunk_.cols.resize(kinds.size());
    for (std::size_t j = 0; j < kinds.size(); ++j) {
      ColumnTarget& t = chunk_.cols[j].target;
      t = ColumnTarget{};
      if (!outputs_) continue;
      Output& o = (*outputs_)[j];
      t.kind = o.guess;
      std::size_t at = chunk_.first;
      switch (o.guess) {
        case Kind::kInt:
          t.i64 = o.i64.data() + at;
          t.missing = o.missing.data() + at;
          break;
        case Kind::kFloat: t.f64 = o.f64.data() + at; break;
        case Kind::kStr: t.codes = o.codes.data() + at; break;
      }
    }
    try {
      for (;;) {
        for (std::size_t j = 0; j < kinds.size(); ++j) chunk_.cols[j].reset(kinds[j], chunk_.cap);
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
      COMPE_ASSERT(rows < chunk_.cap);
      for (std::size_t j = 0; j < ncols; ++j) {
        ColumnBuild& c = chunk_.cols[j];
        const char* t = nullptr;
        if (c.kind == Kind::kInt && fast) {
          std::int64_t v;
          const char* q = parse_int_fast(p, end, v);
          if (q && ctx.is_terminator(q)) {
            c.i64[rows] = v;
            c.missing[rows] = 0;
            t = q;
          } else if (ctx.is_terminator(p)) {
            c.set_missing(rows);
            t = p;
          }
        } else if (c.kind == Kind::kFloat && fast) {
          if (ctx.is_terminator(p)) {
            c.f64[rows] = kNaN;
            t = p;
          } else {
            double v;
            const char* q = parse_decimal_fast(p, end, v);
            if (q && ctx.is_terminator(q)) {
              c.f64[rows] = v;
              t = q;
            } else {
              auto r = fast_float::from_chars(p, end, v);
              if (r.ec == std::errc() && ctx.is_terminator(r.ptr)) {
                c.f64[rows] = v;
                t = r.ptr;
              }
            }
          }
        } else if (c.kind == Kind::kStr && p < end && *p != '"') {
          // Unquoted text: scanned here rather than by the general scanner.
          const char* q = find_special(p, end, delim);
          if (ctx.is_terminator(q)) {
            std::string_view text(p, static_cast<std::size_t>(q - p));
            if (ctx.is_na(text))
              c.codes[rows] = -1;
            else
              c.codes[rows] = c.dict.intern(text, true);
            t = q;
          }
        }
        if (!t) {
          Field f;
          t = ctx.scan_field(p, f, scratch_, j + 1);
          if (!store(c, j, rows, f, p)) return j;
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
  bool store(ColumnBuild& c, std::size_t j, std::size_t row, const Field& f, const char* at) {
    const Context& ctx = ctx_;
    std::string_view s = f.text;
    if ((s.empty() && (c.kind != Kind::kStr || ctx.na_empty)) || ctx.is_na(s)) {
      c.set_missing(row);
      return true;
    }
    const std::optional<DType>& forced = ctx.forced[j];
    switch (c.kind) {
      case Kind::kInt: {
        std::int64_t v;
        if (parse_int_text(s, v)) {
          c.i64[row] = v;
          c.missing[row] = 0;
          return true;
        }
        if (forced) bad_cell(j, s, at, "an integer");
        double d;
        if (parse_float_text(s, d)) {
          c.int_to_float(row, chunk_.cap);
          c.f64[row] = d;
          return true;
        }
        return false;
      }
      case Kind::kFloat: {
        double d;
        if (parse_float_text(s, d)) {
          c.f64[row] = d;
          return true;
        }
        if (forced) bad_cell(j, s, at, "a number");
        return false;
      }
      case Kind::kStr: c.codes[row] = c.dict.intern(s, f.stable); return true;
    }
    return true;
  }

  [[noreturn]] void bad_cell(std::size_t j, std::string_view s, const char* at,
                             std::string_view expected) const {
    DType t = *ctx_.forced[j];
    throw RawError{at, j + 1,
                   fmt::format("column {} is {} (set in dtypes): expected {}, found {}{}",
                               quote(ctx_.columns[j]), dtype_name(t), expected, quote(s), space_hint(s))};
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
  std::vector<Output>* outputs_;
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
    const char* t = nullptr;
    try {
      t = ctx.scan_field(p, f, scratch, field);
    } catch (const RawError& e) {
      ctx.report(e);
    }
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
           "{}:{}:{}: duplicate column name {} (also column {}); expected unique names",
           ctx.name, 1 + std::count(ctx.begin, header, '\n'), j + 1, quote(ctx.columns[j]), it->second + 1);
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
      quotes[i] = count_byte(nominal[i], nominal[i + 1], '"');
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

// A vector of n cells, asking for huge pages before it is first written.
template <typename T>
void size_output(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
  advise_huge(v.data(), n * sizeof(T));
  v.resize(n);
}

// Moves the cells of chunks written in place down to their final rows; converts or copies the
// others. Chunks are visited in order and rows only move down, so nothing unread is overwritten.
Table build_table(const Context& ctx, std::vector<Chunk>& chunks, std::vector<Output>& outputs,
                  const std::vector<Kind>& kinds, std::size_t threads) {
  const std::size_t ncols = ctx.columns.size();
  std::vector<std::size_t> offsets(chunks.size() + 1, 0);
  for (std::size_t i = 0; i < chunks.size(); ++i) offsets[i + 1] = offsets[i] + chunks[i].rows;
  const std::size_t total = offsets.back();
  std::vector<Column> columns(ncols);
  parallel_for(ncols, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      Column& col = columns[j];
      Output& o = outputs[j];
      col.name = ctx.columns[j];
      const bool in_place = o.guess == kinds[j];
      switch (kinds[j]) {
        case Kind::kFloat: {
          col.type = DType::kFloat64;
          if (in_place)
            col.f64 = std::move(o.f64);
          else
            size_output(col.f64, total);
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            ColumnBuild& c = chunks[i].cols[j];
            const std::size_t rows = chunks[i].rows;
            double* out = col.f64.data() + offsets[i];
            if (c.kind == Kind::kFloat) {
              if (c.f64.data() != out) std::memmove(out, c.f64.data(), rows * sizeof(double));
            } else {
              for (std::size_t r = 0; r < rows; ++r)
                out[r] = c.missing[r] ? kNaN : static_cast<double>(c.i64[r]);
            }
          }
          col.f64.resize(total);
          break;
        }
        case Kind::kInt: {
          col.type = DType::kInt64;
          if (in_place) {
            col.i64 = std::move(o.i64);
            col.missing = std::move(o.missing);
          } else {
            size_output(col.i64, total);
            size_output(col.missing, total);
          }
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            ColumnBuild& c = chunks[i].cols[j];
            const std::size_t rows = chunks[i].rows;
            std::int64_t* out = col.i64.data() + offsets[i];
            std::uint8_t* miss = col.missing.data() + offsets[i];
            if (c.i64.data() != out) std::memmove(out, c.i64.data(), rows * sizeof(std::int64_t));
            if (c.missing.data() != miss) std::memmove(miss, c.missing.data(), rows);
          }
          col.i64.resize(total);
          col.missing.resize(total);
          if (std::find(col.missing.begin(), col.missing.end(), 1) == col.missing.end())
            std::vector<std::uint8_t>().swap(col.missing);
          break;
        }
        case Kind::kStr: {
          col.type = DType::kString;
          if (in_place)
            col.codes = std::move(o.codes);
          else
            size_output(col.codes, total);
          csv::StringDict dict;
          std::vector<std::int32_t> remap;
          for (std::size_t i = 0; i < chunks.size(); ++i) {
            ColumnBuild& c = chunks[i].cols[j];
            const std::size_t rows = chunks[i].rows;
            COMPE_ASSERT(c.kind == Kind::kStr);
            remap.resize(c.dict.size());
            for (std::size_t k = 0; k < c.dict.size(); ++k)
              remap[k] = dict.intern(c.dict.values()[k], true);
            const std::int32_t* in = c.codes.data();
            std::int32_t* out = col.codes.data() + offsets[i];
            for (std::size_t r = 0; r < rows; ++r)
              out[r] = in[r] < 0 ? -1 : remap[static_cast<std::size_t>(in[r])];
          }
          col.codes.resize(total);
          col.dict.reserve(dict.size());
          for (auto v : dict.values()) col.dict.emplace_back(v);
          break;
        }
      }
      for (auto& chunk : chunks) chunk.cols[j] = ColumnBuild();
      o = Output();
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
    ctx.na_lengths |= v.size() < 64 ? std::uint64_t{1} << v.size() : 0;
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
      fail(ErrorCode::kNotFound, "{}: dtypes names column {}, which is not in the header{}; columns are: {}",
           name, quote(col), hint.empty() ? "" : fmt::format(" (did you mean {}?)", quote(hint)),
           list_shown(ctx.columns));
    }
    auto j = static_cast<std::size_t>(it - ctx.columns.begin());
    ctx.forced[j] = type;
    kinds[j] = type == DType::kInt64 ? Kind::kInt : type == DType::kFloat64 ? Kind::kFloat : Kind::kStr;
  }

  const std::size_t threads = resolve_threads(options.threads);
  const std::size_t body = static_cast<std::size_t>(ctx.end - p);
  std::size_t n = 1;
  if (options.chunk_bytes > 0) {
    std::size_t piece = std::max<std::size_t>(options.chunk_bytes, 64);
    n = std::max<std::size_t>(1, (body + piece - 1) / piece);
  }
  else if (threads > 1 && body >= kMinParallelBytes)
    n = std::min(threads * kChunksPerThread, body / (kMinParallelBytes / 4));
  std::vector<Chunk> chunks = split_chunks(ctx, p, n, threads);

  // Upper bounds of each chunk's rows: its line count, +1 for a last row without a newline.
  parallel_for(chunks.size(), threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      chunks[i].cap = 1 + count_byte(chunks[i].begin, chunks[i].end, '\n');
  });
  std::size_t total_cap = 0;
  for (auto& c : chunks) {
    c.first = total_cap;
    total_cap += c.cap;
  }

  // Guess each column's type from the first rows, and allocate the final columns at that type,
  // so that chunks agreeing with the guess write their cells in place.
  std::vector<Kind> guess = kinds;
  if (!chunks.empty()) {
    Chunk sample{p, p + std::min<std::size_t>(body, 1 << 16)};
    sample.cap = 1 + count_byte(sample.begin, sample.end, '\n');
    ChunkParser(ctx, sample, nullptr).run(kinds);
    if (!sample.error)
      for (std::size_t j = 0; j < ncols; ++j) guess[j] = sample.cols[j].kind;
  }
  std::vector<Output> outputs(ncols);
  parallel_for(ncols, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      Output& o = outputs[j];
      o.guess = guess[j];
      switch (o.guess) {
        case Kind::kInt:
          size_output(o.i64, total_cap);
          size_output(o.missing, total_cap);
          break;
        case Kind::kFloat: size_output(o.f64, total_cap); break;
        case Kind::kStr: size_output(o.codes, total_cap); break;
      }
    }
  });

  auto parse_all = [&](const std::vector<std::size_t>& which, const std::vector<Kind>& start) {
    std::atomic<std::size_t> next{0};
    std::size_t t = std::min(threads, which.size());
    parallel_for(t, t, [&](std::size_t, std::size_t) {
      for (std::size_t i = next++; i < which.size(); i = next++)
        ChunkParser(ctx, chunks[which[i]], &outputs).run(start);
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
      chunks[i].cap = total_cap - chunks[i].first;  // the space of all later chunks
      ChunkParser(ctx, chunks[i], &outputs).run(kinds);
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
  return build_table(ctx, chunks, outputs, final_kinds, threads);
}

}  // namespace

std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  std::size_t bad = 0;
  if (valid_utf8(text, bad)) return std::nullopt;
  return bad;
}

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
