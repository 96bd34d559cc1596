// tables/cdb_build.cc - BuildTableFromSource() for cdb: the source read a
// piece at a time, each piece parsed and its records written before the
// next is read.
//
// postmap itself streams a cdb build (each line goes to cdb_make_add as
// it is read); mapctl's general path holds the parsed source and a plan,
// which costs memory in proportion to the source (issue 13). Here the
// source lives in one reused buffer of a few MiB, cut where a logical
// line starts (source_chunk.h), and the cdb writer keeps 8-12 bytes per
// record (cdb_writer.h). Warnings come from the same parser and, for
// duplicates, with the same texts as PlanBuild()'s.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "mapctl/table.h"
#include "tables/cdb_writer.h"
#include "tables/source_chunk.h"
#include "tables/stored_form.h"
#include "tables/table_backends.h"
#include "tables/write_error.h"
#include "util/atomic_file.h"

namespace mapctl {
namespace {

constexpr std::size_t kPiece = 4u << 20;  // bytes read before a parse
constexpr std::size_t kProgressEvery = 65536;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Opens the source as ParseMapFile() does, with its errors.
Status OpenSource(const std::string& path, Fd* out) {
  out->fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (out->fd < 0) return Status::IoError("open " + path, errno);
  struct stat st;
  if (fstat(out->fd, &st) < 0) return Status::IoError("fstat " + path, errno);
  if (S_ISDIR(st.st_mode)) return Status::IoError("open " + path, EISDIR);
  return Status::Ok();
}

// Reads until `buf` holds `want` bytes or the source ends; false at EOF.
Result<bool> Fill(int fd, const std::string& path, std::vector<char>* buf,
                  std::size_t* size, std::size_t want) {
  while (*size < want) {
    const ssize_t got = read(fd, buf->data() + *size, want - *size);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read " + path, errno);
    }
    if (got == 0) return false;
    *size += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

Status BuildCdbFromSource(const TableSpec& spec, const std::string& source_path,
                          const ParseOptions& parse, const BuildOptions& options,
                          const SourceFileInfo& source, bool strict,
                          SourceBuildResult* result) {
  *result = SourceBuildResult();
  const std::string target = spec.FileName();
  Fd in;
  MAPCTL_RETURN_IF_ERROR(OpenSource(source_path, &in));
  struct stat st;
  const std::uint64_t source_size =
      fstat(in.fd, &st) == 0 && S_ISREG(st.st_mode)
          ? static_cast<std::uint64_t>(st.st_size)
          : 0;

  Result<std::unique_ptr<AtomicFile>> file =
      AtomicFile::Create(target, BuildFileOptions(options, source));
  if (!file) return std::move(file).error();
  AtomicFile& out = **file;

  // cdb's own default is no NUL (dict_cdb.c); -N adds one.
  const std::size_t nul = options.nul == NulMode::kWith ? 1 : 0;
  cdb::WriterOptions wopts;
  // postmap -w (DICT_FLAG_DUP_IGNORE) hands every record to tinycdb
  // unchecked, repeats included; a lookup finds the first. So does ours.
  wopts.find_duplicates = options.duplicates != DuplicatePolicy::kFirst;
  wopts.duplicates = options.duplicates;
  wopts.nul = nul;
  wopts.target = target;
  wopts.origin = parse.origin;
  cdb::Writer writer(out.fd(), out.temp_path(), wopts);

  std::vector<Diagnostic>& diagnostics = result->diagnostics;
  // After a failed write the source is still parsed to its end, so that
  // its warnings come out as they would without the failure.
  Status write_error;
  ParsedMap piece;
  StoredForm stored_keys[4], stored_values[4];
  std::vector<char> buf(kPiece + 1);
  std::size_t size = 0;      // bytes in buf
  std::uint64_t consumed = 0;  // source bytes parsed
  std::uint32_t line_offset = 0;
  std::size_t next_progress = kProgressEvery;
  bool more = true;
  while (more || size > 0) {
    if (more) {
      Result<bool> r = Fill(in.fd, source_path, &buf, &size, buf.size() - 1);
      if (!r) return std::move(r).error();
      more = *r;
    }
    std::size_t cut = more ? LastLogicalLineStart(buf.data(), size) : size;
    if (cut == 0) {
      // One logical line fills the buffer: read on with a larger one.
      buf.resize(2 * buf.size());
      continue;
    }
    ParseMapChunk(buf.data(), cut, parse, &piece);
    for (Diagnostic d : piece.diagnostics()) {
      if (d.line > 0) d.line += line_offset;
      diagnostics.push_back(std::move(d));
    }
    const std::span<const Entry> entries = piece.entries();
    for (std::size_t i = 0; i < entries.size() && write_error.ok(); i += 4) {
      std::string_view ks[4], vs[4];
      std::uint32_t lines[4];
      const int n = static_cast<int>(std::min<std::size_t>(4, entries.size() - i));
      for (int j = 0; j < n; ++j) {
        const Entry& e = entries[i + j];
        ks[j] = stored_keys[j].Of(e.key(), nul);
        vs[j] = stored_values[j].Of(e.value(), nul);
        lines[j] = e.line() + line_offset;
      }
      write_error = writer.Add(ks, vs, lines, n);
    }
    line_offset += piece.line_count();
    consumed += cut;
    std::memmove(buf.data(), buf.data() + cut, size - cut);
    size -= cut;
    if (options.progress && writer.added() >= next_progress) {
      const std::size_t estimate =
          source_size > consumed
              ? static_cast<std::size_t>(writer.added() * (source_size / double(consumed)))
              : writer.added();
      options.progress(writer.added(), estimate);
      next_progress = writer.added() + kProgressEvery;
    }
  }

  std::vector<Diagnostic> duplicates;
  if (write_error.ok()) write_error = writer.Finish(&duplicates);
  // Both lists are in line order; the result is too.
  const std::size_t parsed = diagnostics.size();
  diagnostics.insert(diagnostics.end(), duplicates.begin(), duplicates.end());
  std::inplace_merge(diagnostics.begin(), diagnostics.begin() + parsed,
                     diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return a.line < b.line;
                     });
  MAPCTL_RETURN_IF_ERROR(ExplainBuildFailure(write_error, out.fd(), target));
  result->entries = writer.written();
  if (strict && !diagnostics.empty()) return Status::Ok();  // file removed
  if (options.progress) options.progress(result->entries, result->entries);
  MAPCTL_RETURN_IF_ERROR(out.Commit());
  result->written = true;
  return Status::Ok();
}

}  // namespace mapctl
