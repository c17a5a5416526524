#include "build/elf_closure.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace ofn::build {

namespace {

// ELF constants (elf.h spelled out: only what is read here).
constexpr size_t kEhdrSize = 64;
constexpr size_t kPhdrSize = 56;
constexpr size_t kDynSize = 16;
constexpr uint16_t kEtExec = 2;
constexpr uint16_t kEtDyn = 3;
constexpr uint16_t kEmX86_64 = 62;
constexpr uint16_t kEmAarch64 = 183;
constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPtDynamic = 2;
constexpr uint32_t kPtInterp = 3;
constexpr int64_t kDtNull = 0;
constexpr int64_t kDtNeeded = 1;
constexpr int64_t kDtStrtab = 5;
constexpr int64_t kDtStrsz = 10;
constexpr int64_t kDtSoname = 14;
constexpr int64_t kDtRpath = 15;
constexpr int64_t kDtRunpath = 29;

// Bounds that no real binary reaches; past them the input is taken as hostile.
constexpr uint16_t kMaxPhnum = 4096;
constexpr uint64_t kMaxDynEntries = 1 << 16;
constexpr uint64_t kMaxStrtab = 64ull << 20;
constexpr uint64_t kMaxInterp = 4096;
constexpr int kMaxSymlinkHops = 40;
constexpr int kMaxConfDepth = 16;

uint16_t U16(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] | b[1] << 8);
}
uint32_t U32(const char* p) { return U16(p) | static_cast<uint32_t>(U16(p + 2)) << 16; }
uint64_t U64(const char* p) { return U32(p) | static_cast<uint64_t>(U32(p + 4)) << 32; }

// Random access to the bytes of an ELF file: memory (fuzzing) or a file
// (reading only what is needed of a large executable).
class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  // Exactly n bytes at off; the caller has checked off + n <= size().
  virtual Result<std::string> Read(uint64_t off, uint64_t n) const = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  Result<std::string> Read(uint64_t off, uint64_t n) const override {
    return std::string(bytes_.substr(static_cast<size_t>(off), static_cast<size_t>(n)));
  }

 private:
  std::string_view bytes_;
};

class FileSource : public Source {
 public:
  FileSource(int fd, uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  uint64_t size() const override { return size_; }
  Result<std::string> Read(uint64_t off, uint64_t n) const override {
    std::string out(static_cast<size_t>(n), '\0');
    size_t done = 0;
    while (done < out.size()) {
      ssize_t r = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::Internal("elf: read " + path_ + ": " + std::strerror(errno));
      if (r == 0) return Status::InvalidArgument("elf: " + path_ + " shrank while being read");
      done += static_cast<size_t>(r);
    }
    return out;
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

// off + n within [0, size], without overflow.
bool InBounds(uint64_t off, uint64_t n, uint64_t size) { return off <= size && n <= size - off; }

std::vector<std::string> SplitPath(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t colon = list.find(':', start);
    size_t end = colon == std::string_view::npos ? list.size() : colon;
    out.emplace_back(list.substr(start, end - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return out;
}

struct Load {
  uint64_t vaddr, offset, filesz;
};

Result<ElfInfo> Parse(const Source& src, const std::string& what) {
  auto bad = [&what](const std::string& why) { return Status::InvalidArgument("elf: " + what + ": " + why); };
  const uint64_t size = src.size();
  if (size < 4) return bad("not an ELF file (" + std::to_string(size) + " bytes)");
  auto head = src.Read(0, std::min<uint64_t>(size, kEhdrSize));
  if (!head.ok()) return head.status();
  const std::string& h = *head;
  if (h.compare(0, 4, "\x7f" "ELF") != 0) return bad("not an ELF file");
  if (size < kEhdrSize) return bad("truncated ELF header (" + std::to_string(size) + " bytes)");
  if (h[4] == 1) return bad("32-bit ELF is not supported (only ELF64 x86-64 and aarch64)");
  if (h[4] != 2) return bad("bad ELF class " + std::to_string(static_cast<unsigned char>(h[4])));
  if (h[5] == 2) return bad("big-endian ELF is not supported (only little-endian x86-64 and aarch64)");
  if (h[5] != 1) return bad("bad ELF data encoding " + std::to_string(static_cast<unsigned char>(h[5])));
  if (h[6] != 1) return bad("bad ELF version");

  ElfInfo info;
  const uint16_t type = U16(&h[16]);
  if (type != kEtExec && type != kEtDyn) {
    return bad("not an executable or shared object (ELF type " + std::to_string(type) + ")");
  }
  info.shared_object = type == kEtDyn;
  const uint16_t machine = U16(&h[18]);
  if (machine == kEmX86_64) {
    info.machine = ElfMachine::kX86_64;
  } else if (machine == kEmAarch64) {
    info.machine = ElfMachine::kAarch64;
  } else {
    return bad("unsupported machine " + std::to_string(machine) + " (only x86-64 and aarch64)");
  }

  const uint64_t phoff = U64(&h[32]);
  const uint16_t phentsize = U16(&h[54]);
  const uint16_t phnum = U16(&h[56]);
  if (phnum == 0) return bad("no program headers");
  if (phnum > kMaxPhnum) return bad("absurd program header count " + std::to_string(phnum));
  if (phentsize != kPhdrSize) return bad("bad program header size " + std::to_string(phentsize));
  if (!InBounds(phoff, uint64_t{phnum} * kPhdrSize, size)) return bad("program headers past the end of the file");
  auto phdrs = src.Read(phoff, uint64_t{phnum} * kPhdrSize);
  if (!phdrs.ok()) return phdrs.status();

  std::vector<Load> loads;
  bool have_interp = false, have_dynamic = false;
  uint64_t interp_off = 0, interp_size = 0, dyn_off = 0, dyn_size = 0;
  for (uint16_t i = 0; i < phnum; ++i) {
    const char* p = phdrs->data() + size_t{i} * kPhdrSize;
    const uint32_t ptype = U32(p);
    const uint64_t offset = U64(p + 8), vaddr = U64(p + 16), filesz = U64(p + 32);
    if (ptype == kPtLoad) {
      if (!InBounds(offset, filesz, size)) return bad("PT_LOAD past the end of the file");
      loads.push_back({vaddr, offset, filesz});
    } else if (ptype == kPtInterp) {
      if (have_interp) return bad("two PT_INTERP headers");
      have_interp = true;
      interp_off = offset;
      interp_size = filesz;
    } else if (ptype == kPtDynamic) {
      if (have_dynamic) return bad("two PT_DYNAMIC headers");
      have_dynamic = true;
      dyn_off = offset;
      dyn_size = filesz;
    }
  }

  if (have_interp) {
    if (interp_size == 0 || interp_size > kMaxInterp) return bad("bad PT_INTERP size " + std::to_string(interp_size));
    if (!InBounds(interp_off, interp_size, size)) return bad("PT_INTERP past the end of the file");
    auto text = src.Read(interp_off, interp_size);
    if (!text.ok()) return text.status();
    size_t nul = text->find('\0');
    if (nul == std::string::npos) return bad("PT_INTERP is not NUL-terminated");
    info.interpreter = text->substr(0, nul);
    if (info.interpreter.empty() || info.interpreter.front() != '/') {
      return bad("PT_INTERP \"" + info.interpreter + "\" is not an absolute path");
    }
  }
  if (!have_dynamic) return info;

  if (!InBounds(dyn_off, dyn_size, size)) return bad("PT_DYNAMIC past the end of the file");
  const uint64_t count = dyn_size / kDynSize;
  if (count > kMaxDynEntries) return bad("absurd dynamic section size " + std::to_string(dyn_size));
  auto dyn = src.Read(dyn_off, count * kDynSize);
  if (!dyn.ok()) return dyn.status();
  std::vector<uint64_t> needed;
  uint64_t strtab = 0, strsz = 0, soname = 0, rpath = 0, runpath = 0;
  bool have_strtab = false, have_strsz = false, have_soname = false, have_rpath = false;
  for (uint64_t i = 0; i < count; ++i) {
    const char* d = dyn->data() + i * kDynSize;
    const auto tag = static_cast<int64_t>(U64(d));
    const uint64_t val = U64(d + 8);
    if (tag == kDtNull) break;
    switch (tag) {
      case kDtNeeded: needed.push_back(val); break;
      case kDtStrtab: strtab = val, have_strtab = true; break;
      case kDtStrsz: strsz = val, have_strsz = true; break;
      case kDtSoname: soname = val, have_soname = true; break;
      case kDtRpath: rpath = val, have_rpath = true; break;
      case kDtRunpath: runpath = val, info.has_runpath = true; break;
      default: break;
    }
  }
  if (needed.empty() && !have_soname && !have_rpath && !info.has_runpath) return info;
  if (!have_strtab || !have_strsz) return bad("dynamic section without DT_STRTAB/DT_STRSZ");
  if (strsz == 0 || strsz > kMaxStrtab) return bad("bad DT_STRSZ " + std::to_string(strsz));
  // DT_STRTAB is an address: the PT_LOAD holding it gives its file offset.
  uint64_t str_off = 0;
  bool mapped = false;
  for (const Load& l : loads) {
    if (strtab >= l.vaddr && strtab - l.vaddr < l.filesz) {
      if (strsz > l.filesz - (strtab - l.vaddr)) return bad("string table runs past its segment");
      str_off = l.offset + (strtab - l.vaddr);
      mapped = true;
      break;
    }
  }
  if (!mapped) return bad("DT_STRTAB is not in any PT_LOAD segment");
  auto strings = src.Read(str_off, strsz);
  if (!strings.ok()) return strings.status();
  auto str = [&](uint64_t idx, const char* tag) -> Result<std::string> {
    if (idx >= strings->size()) return bad(std::string(tag) + " string offset past the string table");
    size_t nul = strings->find('\0', static_cast<size_t>(idx));
    if (nul == std::string::npos) return bad(std::string(tag) + " string is not NUL-terminated");
    return strings->substr(static_cast<size_t>(idx), nul - static_cast<size_t>(idx));
  };
  for (uint64_t idx : needed) {
    auto name = str(idx, "DT_NEEDED");
    if (!name.ok()) return name.status();
    if (name->empty()) return bad("empty DT_NEEDED name");
    info.needed.push_back(std::move(*name));
  }
  if (have_soname) {
    auto s = str(soname, "DT_SONAME");
    if (!s.ok()) return s.status();
    info.soname = std::move(*s);
  }
  if (info.has_runpath) {
    auto s = str(runpath, "DT_RUNPATH");
    if (!s.ok()) return s.status();
    info.runpath = SplitPath(*s);
  } else if (have_rpath) {
    // glibc ignores DT_RPATH when DT_RUNPATH is there.
    auto s = str(rpath, "DT_RPATH");
    if (!s.ok()) return s.status();
    info.rpath = SplitPath(*s);
  }
  return info;
}

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// "/a/./b/../c/" -> "/a/c", lexically: inside the image, directories are
// real directories, so that is how the container will resolve it.
std::string NormalizeAbsolute(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    size_t end = slash == std::string_view::npos ? path.size() : slash;
    std::string_view comp = path.substr(start, end - start);
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!comp.empty() && comp != ".") {
      parts.push_back(comp);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (auto p : parts) out.append("/").append(p);
  return out.empty() ? "/" : out;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Join(const std::string& dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

// A directory to search, as seen on this machine and inside the image (they
// differ only under a relocated $ORIGIN).
struct SearchDir {
  std::string host;
  std::string image;
};

// One loaded object.
struct Object {
  std::string host_path;
  std::string image_path;
  ElfInfo info;
  int loader = -1;  // index of the object whose DT_NEEDED brought it in
  SearchDir origin;  // $ORIGIN
};

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// Expands an RPATH/RUNPATH entry (or a DT_NEEDED with '/') for `obj`;
// nullopt for what an image cannot honour the same way: empty (the current
// directory), relative, $LIB/$PLATFORM or unknown substitutions.
std::optional<SearchDir> Expand(const std::string& entry, const Object& obj) {
  if (entry.empty()) return std::nullopt;
  std::string host = entry, image = entry, rest = entry;
  for (std::string_view token : {"${ORIGIN}", "$ORIGIN"}) {
    ReplaceAll(host, token, obj.origin.host);
    ReplaceAll(image, token, obj.origin.image);
    ReplaceAll(rest, token, "");
  }
  if (rest.find('$') != std::string::npos || host.front() != '/') return std::nullopt;
  return SearchDir{NormalizeAbsolute(host), NormalizeAbsolute(image)};
}

class Resolver {
 public:
  explicit Resolver(const ClosureOptions& options) : options_(options) {}

  Result<ElfClosure> Run(const std::string& executable) {
    char real[PATH_MAX];
    if (::realpath(executable.c_str(), real) == nullptr) return Status::NotFound(ErrnoText("elf: " + executable));
    auto exe = ParseElfFile(real);
    if (!exe.ok()) return exe.status();
    ElfClosure closure;
    closure.machine = exe->machine;
    if (exe->interpreter.empty()) {
      if (exe->needed.empty()) return closure;  // statically linked
      return Status::InvalidArgument("elf: " + executable +
                                     " has DT_NEEDED entries but no PT_INTERP (a shared library, not an executable?)");
    }
    machine_ = exe->machine;
    std::string image_exe =
        options_.executable_image_path.empty() ? std::string(real) : NormalizeAbsolute(options_.executable_image_path);
    // glibc takes the executable's $ORIGIN from /proc/self/exe: its real path.
    Object main{real, image_exe, std::move(*exe), -1, {DirName(real), DirName(image_exe)}};
    const std::string interp = main.info.interpreter;
    objects_.push_back(std::move(main));

    // The loader is loaded before anything else; its soname satisfies libc's
    // DT_NEEDED on it without a search.
    auto ld = ParseElfFile(interp);
    if (!ld.ok()) {
      return Status(ld.status().code(), "elf: the loader (PT_INTERP) of " + executable + ": " + ld.status().message());
    }
    if (ld->machine != machine_) {
      return Status::InvalidArgument("elf: the loader " + interp + " is " + ElfMachineName(ld->machine) + ", not " +
                                     ElfMachineName(machine_));
    }
    closure.interpreter = NormalizeAbsolute(interp);
    if (!ld->soname.empty()) by_name_.emplace(ld->soname, 1);
    by_name_.emplace(closure.interpreter.substr(closure.interpreter.rfind('/') + 1), 1);
    if (Status s = AddObject(closure.interpreter, closure.interpreter, std::move(*ld), 0); !s.ok()) return s;

    conf_dirs_ = ReadLdSoConf(options_.ld_so_conf);
    default_dirs_ = options_.default_dirs.empty() ? DefaultLibraryDirs(machine_) : options_.default_dirs;
    system_dirs_ = LoaderSystemDirs(machine_);

    // Breadth-first, as glibc loads: objects_ grows while it is walked.
    for (size_t i = 0; i < objects_.size(); ++i) {
      const std::vector<std::string> needed = objects_[i].info.needed;
      for (const std::string& name : needed) {
        if (by_name_.count(name) != 0) continue;
        if (Status s = Load(name, static_cast<int>(i)); !s.ok()) return s;
      }
    }
    for (auto& [path, f] : files_) closure.files.push_back(std::move(f));
    closure.library_path = std::move(library_path_);
    return closure;
  }

 private:
  Status Load(const std::string& name, int requester) {
    const Object& req = objects_[requester];
    std::vector<SearchDir> dirs;
    if (name.find('/') != std::string::npos) {
      auto path = Expand(name, req);
      if (!path) {
        return Status::InvalidArgument("elf: " + req.host_path + " needs \"" + name +
                                       "\", a path that depends on the current directory");
      }
      return Found(name, requester, *path, std::nullopt);
    }
    if (!req.info.has_runpath) {
      for (int l = requester; l != -1; l = objects_[l].loader) {
        for (const auto& e : objects_[l].info.rpath) {
          if (auto d = Expand(e, objects_[l])) dirs.push_back(std::move(*d));
        }
      }
    }
    // (LD_LIBRARY_PATH would come here: ignored on purpose, see the header.)
    for (const auto& e : req.info.runpath) {
      if (auto d = Expand(e, req)) dirs.push_back(std::move(*d));
    }
    const size_t from_system = dirs.size();  // past here: ld.so.conf and the defaults
    for (const auto& d : conf_dirs_) dirs.push_back({d, d});
    for (const auto& d : default_dirs_) dirs.push_back({d, d});

    std::string tried;
    std::set<std::string> seen;
    for (size_t i = 0; i < dirs.size(); ++i) {
      const SearchDir& d = dirs[i];
      if (!seen.insert(d.host).second) continue;
      SearchDir candidate{Join(d.host, name), Join(d.image, name)};
      struct stat st {};
      if (::stat(candidate.host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        tried += "\n  " + d.host;
        continue;
      }
      auto info = ParseElfFile(candidate.host);
      if (!info.ok() || info->machine != machine_) {
        // As glibc: a file of another class or machine is passed over.
        tried += "\n  " + d.host + " (skipped: " +
                 (info.ok() ? std::string(ElfMachineName(info->machine)) : info.status().message()) + ")";
        continue;
      }
      if (i >= from_system) NeedLibraryPath(d.image);
      return Found(name, requester, candidate, std::move(*info));
    }
    return Status::NotFound("elf: " + name + " (needed by " + req.host_path + ") not found; searched:" + tried +
                            "\n(LD_LIBRARY_PATH is not used: an image must not depend on the builder's environment)");
  }

  void NeedLibraryPath(const std::string& dir) {
    for (const auto& s : system_dirs_) {
      if (s == dir) return;
    }
    for (const auto& l : library_path_) {
      if (l == dir) return;
    }
    library_path_.push_back(dir);
  }

  Status Found(const std::string& name, int requester, const SearchDir& path, std::optional<ElfInfo> info) {
    if (!info) {
      auto parsed = ParseElfFile(path.host);
      if (!parsed.ok()) return parsed.status();
      if (parsed->machine != machine_) {
        return Status::InvalidArgument("elf: " + path.host + " is " + ElfMachineName(parsed->machine) + ", not " +
                                       ElfMachineName(machine_));
      }
      info = std::move(*parsed);
    }
    if (auto it = by_image_path_.find(path.image); it != by_image_path_.end()) {
      by_name_.emplace(name, it->second);
      return Status::Ok();
    }
    by_name_.emplace(name, static_cast<int>(objects_.size()));
    if (!info->soname.empty()) by_name_.emplace(info->soname, static_cast<int>(objects_.size()));
    return AddObject(path.image, path.host, std::move(*info), requester);
  }

  Status AddObject(const std::string& image, const std::string& host, ElfInfo info, int loader) {
    if (objects_.size() > options_.max_libraries) {
      return Status::ResourceExhausted("elf: more than " + std::to_string(options_.max_libraries) + " libraries");
    }
    by_image_path_.emplace(image, static_cast<int>(objects_.size()));
    // A library's $ORIGIN is the directory it was found in, links unresolved.
    objects_.push_back(Object{host, image, std::move(info), loader, {DirName(host), DirName(image)}});
    return AddFileChain(image, host);
  }

  // The file at `image`, and, when it is a symlink, each hop to the file.
  Status AddFileChain(std::string image, std::string host) {
    for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
      if (files_.count(image) != 0) return Status::Ok();
      struct stat st {};
      if (::lstat(host.c_str(), &st) != 0) return Status::NotFound(ErrnoText("elf: " + host));
      if (S_ISREG(st.st_mode)) {
        files_.emplace(image, ClosureFile{image, host, ""});
        return Status::Ok();
      }
      if (!S_ISLNK(st.st_mode)) return Status::InvalidArgument("elf: " + host + " is not a file");
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
      if (n < 0) return Status::Internal(ErrnoText("elf: readlink " + host));
      if (n == 0 || static_cast<size_t>(n) >= target.size()) return Status::Internal("elf: bad symlink " + host);
      target.resize(static_cast<size_t>(n));
      files_.emplace(image, ClosureFile{image, host, target});
      // Resolved lexically, as the container will (see NormalizeAbsolute).
      if (target.front() == '/') {
        image = host = NormalizeAbsolute(target);
      } else {
        image = NormalizeAbsolute(DirName(image) + "/" + target);
        host = NormalizeAbsolute(DirName(host) + "/" + target);
      }
    }
    return Status::InvalidArgument("elf: too many levels of symlinks at " + host);
  }

  const ClosureOptions& options_;
  ElfMachine machine_ = ElfMachine::kX86_64;
  std::vector<Object> objects_;
  std::map<std::string, int> by_name_;        // DT_NEEDED names and sonames already loaded
  std::map<std::string, int> by_image_path_;
  std::map<std::string, ClosureFile> files_;  // sorted by image path
  std::vector<std::string> conf_dirs_;
  std::vector<std::string> default_dirs_;
  std::vector<std::string> system_dirs_;
  std::vector<std::string> library_path_;
};

void ReadConf(const std::string& path, int depth, std::set<std::string>& visited, std::vector<std::string>& dirs,
              std::set<std::string>& seen) {
  if (depth > kMaxConfDepth || !visited.insert(path).second) return;
  std::ifstream in(path);
  if (!in) return;
  for (std::string line; std::getline(in, line);) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    if (first == "include") {
      for (std::string pattern; words >> pattern;) {
        if (pattern.front() != '/') pattern = Join(DirName(path), pattern);
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
          for (size_t i = 0; i < g.gl_pathc; ++i) ReadConf(g.gl_pathv[i], depth + 1, visited, dirs, seen);
        }
        ::globfree(&g);
      }
    } else if (first == "hwcap") {
      continue;  // obsolete, ignored by ldconfig too
    } else if (first.front() == '/') {
      std::string dir = NormalizeAbsolute(first);
      if (seen.insert(dir).second) dirs.push_back(std::move(dir));
    }
  }
}

}  // namespace

const char* ElfMachineName(ElfMachine m) { return m == ElfMachine::kX86_64 ? "x86_64" : "aarch64"; }

Result<ElfInfo> ParseElf(std::string_view bytes) { return Parse(MemorySource(bytes), "input"); }

Result<ElfInfo> ParseElfFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound(ErrnoText("elf: " + path));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("elf: " + path + " is not a regular file");
  }
  FileSource src(fd, static_cast<uint64_t>(st.st_size), path);
  return Parse(src, path);
}

std::vector<std::string> DefaultLibraryDirs(ElfMachine m) {
  const std::string triplet = m == ElfMachine::kX86_64 ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
  return {"/lib/" + triplet, "/usr/lib/" + triplet, "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
}

std::vector<std::string> LoaderSystemDirs(ElfMachine m) {
  const std::string triplet = m == ElfMachine::kX86_64 ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
  return {"/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"};
}

std::vector<std::string> ReadLdSoConf(const std::string& path) {
  std::vector<std::string> dirs;
  std::set<std::string> visited, seen;
  ReadConf(path, 0, visited, dirs, seen);
  return dirs;
}

Result<ElfClosure> ResolveClosure(const std::string& executable, const ClosureOptions& options) {
  return Resolver(options).Run(executable);
}

}  // namespace ofn::build
