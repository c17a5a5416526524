// ElfClosure: the shared libraries an ELF executable needs at run time,
// found by reading ELF headers, never by running anything (`ldd` may execute
// the binary).
//
// ParseElf reads an ELF64 little-endian x86-64 or aarch64 file: PT_INTERP,
// and from PT_DYNAMIC the DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME
// strings. Every offset, size and count is checked against the input, so a
// malformed file (truncated, offsets past the end, absurd counts) is an
// InvalidArgument naming what is wrong, never a crash; 32-bit, big-endian and
// other machines are InvalidArgument too.
//
// ResolveClosure walks DT_NEEDED breadth-first from the executable, searching
// each name as the glibc loader does: DT_RPATH of the object and of the
// objects that loaded it (only while none of them has DT_RUNPATH; an object's
// RPATH is ignored when it has a RUNPATH), then DT_RUNPATH, then the
// directories of /etc/ld.so.conf (with its `include` globs) in place of
// ld.so.cache, then the architecture's default directories. LD_LIBRARY_PATH
// is deliberately ignored: an image must not depend on the environment of
// whoever built it. $ORIGIN is expanded; $LIB and $PLATFORM entries, empty
// entries (the current directory) and glibc-hwcaps subdirectories are
// skipped. A candidate of another class or machine is skipped, as glibc does.
//
// Each file is placed in the image at the path where it was found. When that
// path is a symlink (libstdc++.so.6 -> libstdc++.so.6.0.30), the link and
// every hop to the final file are kept. A statically linked executable (no
// PT_INTERP, no DT_NEEDED) has an empty closure.
//
// Thread-safety: free functions on values; they read the file system only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ofn/status.h"

namespace ofn::build {

enum class ElfMachine { kX86_64, kAarch64 };

// "x86_64" / "aarch64".
const char* ElfMachineName(ElfMachine m);

struct ElfInfo {
  ElfMachine machine = ElfMachine::kX86_64;
  bool shared_object = false;        // ET_DYN (a library or a PIE), else ET_EXEC
  std::string interpreter;           // PT_INTERP; empty when there is none
  std::vector<std::string> needed;   // DT_NEEDED, in file order
  std::vector<std::string> rpath;    // DT_RPATH split on ':' (unexpanded); empty when RUNPATH is present
  std::vector<std::string> runpath;  // DT_RUNPATH split on ':' (unexpanded)
  bool has_runpath = false;
  std::string soname;                // DT_SONAME
};

// Parses an ELF image held in memory (the fuzz target's entry point).
Result<ElfInfo> ParseElf(std::string_view bytes);
// Parses a file, reading only the headers and the strings it needs.
Result<ElfInfo> ParseElfFile(const std::string& path);

struct ClosureFile {
  std::string image_path;   // absolute path inside the image
  std::string host_path;    // where it is on this machine (the link itself for a symlink)
  std::string link_target;  // non-empty: a symlink with this target, as stored on the host
  bool is_symlink() const { return !link_target.empty(); }
};

struct ClosureOptions {
  // Where the executable will be inside the image: $ORIGIN of the
  // executable then means its directory there, and libraries found through
  // it move along. Empty: the executable's host path.
  std::string executable_image_path;
  std::string ld_so_conf = "/etc/ld.so.conf";  // missing file: no directories
  // Replaces the architecture's defaults when non-empty (tests).
  std::vector<std::string> default_dirs;
  size_t max_libraries = 1024;  // a bigger closure is an error, not a hang
};

struct ElfClosure {
  ElfMachine machine = ElfMachine::kX86_64;
  std::string interpreter;         // image path of the loader; empty when static
  std::vector<ClosureFile> files;  // the loader, libraries and their symlinks, sorted by image_path
  // Directories (in the image) where ld.so.conf or the defaults found a
  // library that the loader does not search by itself (its built-in dirs are
  // /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib): an image has no
  // ld.so.cache, so these must go into the image's LD_LIBRARY_PATH.
  std::vector<std::string> library_path;
};

// The closure of `executable` (not included in it). NotFound names a library
// that no directory has, with who needs it and where it was looked for.
Result<ElfClosure> ResolveClosure(const std::string& executable, const ClosureOptions& options = {});

// The default directories of the loader for a machine (Debian's multiarch
// ones first).
std::vector<std::string> DefaultLibraryDirs(ElfMachine m);

// The directories the loader searches without ld.so.cache or any path
// (glibc's system dirs, as `ld.so --list-diagnostics` prints them on Debian).
std::vector<std::string> LoaderSystemDirs(ElfMachine m);

// The directories listed by an ld.so.conf file, following `include` lines
// (globs, relative to the including file's directory), in order, without
// duplicates. A missing file gives an empty list.
std::vector<std::string> ReadLdSoConf(const std::string& path);

}  // namespace ofn::build
