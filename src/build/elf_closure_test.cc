#include "build/elf_closure.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "build/testing_tools.h"
#include "support/process.h"

namespace ofn::build {
namespace {

using ofn::build::testing::RunTool;
using ofn::testing::ReadFile;
using ofn::testing::TempDir;
using ofn::testing::WriteFile;

const ClosureFile* FindByName(const ElfClosure& c, const std::string& name) {
  for (const auto& f : c.files) {
    if (f.image_path.size() > name.size() && f.image_path.ends_with("/" + name)) return &f;
  }
  return nullptr;
}

const ClosureFile* FindByPath(const ElfClosure& c, const std::string& path) {
  for (const auto& f : c.files) {
    if (f.image_path == path) return &f;
  }
  return nullptr;
}

// Follows a closure's symlink entries from `path` to a regular-file entry;
// fails when a hop is missing (the image would have a dangling link).
std::string FollowInClosure(const ElfClosure& c, std::string path) {
  for (int i = 0; i < 40; ++i) {
    const ClosureFile* f = FindByPath(c, path);
    if (f == nullptr) return "missing: " + path;
    if (!f->is_symlink()) return path;
    const std::string& t = f->link_target;
    path = t.front() == '/' ? t : path.substr(0, path.rfind('/') + 1) + t;
  }
  return "loop";
}

// Compiles C++ `source` with g++ and `flags`; the output path.
std::string Compile(const TempDir& dir, const std::string& name, const std::string& source,
                    std::vector<std::string> flags) {
  const std::string src = dir.Sub(name + ".cc");
  EXPECT_TRUE(WriteFile(src, source).ok());
  std::vector<std::string> argv = {"g++", "-O1", "-o", dir.Sub(name), src};
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto run = RunTool(argv, std::chrono::seconds(120));
  EXPECT_TRUE(run.ok()) << run.Describe();
  return dir.Sub(name);
}

TEST(ElfClosure, SystemBinaryHasLoaderAndLibc) {
  const std::string bin = ::access("/bin/ls", R_OK) == 0 ? "/bin/ls" : "/usr/bin/env";
  auto info = ParseElfFile(bin);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_FALSE(info->interpreter.empty());
  EXPECT_NE(std::find(info->needed.begin(), info->needed.end(), "libc.so.6"), info->needed.end());

  auto c = ResolveClosure(bin);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->interpreter, info->interpreter);
  // The loader at PT_INTERP's path (a symlink on Debian, kept) ends in a file.
  ASSERT_NE(FindByPath(*c, info->interpreter), nullptr);
  std::string loader = FollowInClosure(*c, info->interpreter);
  ASSERT_EQ(loader.front(), '/') << loader;
  const ClosureFile* libc = FindByName(*c, "libc.so.6");
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->image_path, libc->host_path) << "at the path where it was found";
  std::string libc_file = FollowInClosure(*c, libc->image_path);
  ASSERT_EQ(libc_file.front(), '/') << libc_file;
  struct stat st {};
  ASSERT_EQ(::stat(libc->host_path.c_str(), &st), 0);
  // No second copy of the loader for libc's DT_NEEDED on it.
  int loaders = 0;
  for (const auto& f : c->files) loaders += !f.is_symlink() && f.image_path.find("/ld-linux") != std::string::npos;
  EXPECT_EQ(loaders, 1);
  for (const auto& f : c->files) {
    std::cout << "[ INFO     ] " << f.image_path << (f.is_symlink() ? " -> " + f.link_target : "") << "\n";
  }
}

TEST(ElfClosure, CxxBinaryKeepsLibstdcxxSymlinkChain) {
  TempDir dir("ofn-elf");
  std::string bin = Compile(dir, "cxx", "#include <iostream>\nint main() { std::cout << \"x\\n\"; }\n", {});
  auto c = ResolveClosure(bin);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ClosureFile* link = FindByName(*c, "libstdc++.so.6");
  ASSERT_NE(link, nullptr);
  struct stat st {};
  ASSERT_EQ(::lstat(link->host_path.c_str(), &st), 0);
  if (S_ISLNK(st.st_mode)) {
    EXPECT_TRUE(link->is_symlink());
    EXPECT_NE(link->link_target.find("libstdc++.so.6."), std::string::npos) << link->link_target;
    std::string file = FollowInClosure(*c, link->image_path);
    ASSERT_EQ(file.front(), '/') << file;
    EXPECT_FALSE(FindByPath(*c, file)->is_symlink());
  }
  EXPECT_NE(FindByName(*c, "libc.so.6"), nullptr);
  EXPECT_NE(FindByName(*c, "libm.so.6"), nullptr) << "libstdc++'s own DT_NEEDED";
}

TEST(ElfClosure, StaticBinaryHasEmptyClosure) {
  // libc6-dev ships libc.a, so g++ -static works wherever the build does.
  TempDir dir("ofn-elf");
  std::string bin = Compile(dir, "static", "int main() { return 0; }\n", {"-static"});
  auto info = ParseElfFile(bin);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->interpreter.empty());
  EXPECT_TRUE(info->needed.empty());
  auto c = ResolveClosure(bin);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->files.empty());
  EXPECT_TRUE(c->interpreter.empty());
}

TEST(ElfClosure, RunpathAndRpathWithOrigin) {
  TempDir dir("ofn-elf");
  ASSERT_EQ(::mkdir(dir.Sub("lib").c_str(), 0755), 0);
  auto lib = RunTool({"sh", "-c",
                      "cd " + dir.path() + " && printf 'int foo() { return 7; }\\n' > foo.cc && "
                      "g++ -shared -fPIC -Wl,-soname,libfoo.so.1 -o lib/libfoo.so.1.2 foo.cc && "
                      "ln -s libfoo.so.1.2 lib/libfoo.so.1 && ln -s libfoo.so.1 lib/libfoo.so"});
  ASSERT_TRUE(lib.ok()) << lib.Describe();
  const std::string main_src = "int foo();\nint main() { return foo() == 7 ? 0 : 1; }\n";
  for (const char* tags : {"-Wl,--enable-new-dtags", "-Wl,--disable-new-dtags"}) {
    SCOPED_TRACE(tags);
    std::string bin = Compile(dir, "app", main_src, {"-L" + dir.Sub("lib"), "-lfoo", "-Wl,-rpath,$ORIGIN/lib", tags});
    auto info = ParseElfFile(bin);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    if (std::string(tags).find("enable") != std::string::npos) {
      EXPECT_TRUE(info->has_runpath);
      EXPECT_EQ(info->runpath, std::vector<std::string>{"$ORIGIN/lib"});
    } else {
      EXPECT_FALSE(info->has_runpath);
      EXPECT_EQ(info->rpath, std::vector<std::string>{"$ORIGIN/lib"});
    }
    auto c = ResolveClosure(bin);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const ClosureFile* foo = FindByName(*c, "libfoo.so.1");
    ASSERT_NE(foo, nullptr);
    EXPECT_EQ(foo->image_path, dir.Sub("lib/libfoo.so.1"));
    EXPECT_EQ(foo->link_target, "libfoo.so.1.2");
    ASSERT_NE(FindByPath(*c, dir.Sub("lib/libfoo.so.1.2")), nullptr);

    // Placed elsewhere in the image, $ORIGIN's libraries move along.
    ClosureOptions o;
    o.executable_image_path = "/app/app";
    auto moved = ResolveClosure(bin, o);
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    const ClosureFile* mfoo = FindByPath(*moved, "/app/lib/libfoo.so.1");
    ASSERT_NE(mfoo, nullptr);
    EXPECT_EQ(mfoo->host_path, dir.Sub("lib/libfoo.so.1"));
    EXPECT_NE(FindByPath(*moved, "/app/lib/libfoo.so.1.2"), nullptr);
  }

  // Without the library: NotFound naming it and who needs it.
  ASSERT_EQ(::unlink(dir.Sub("lib/libfoo.so.1").c_str()), 0);
  auto missing = ResolveClosure(dir.Sub("app"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("libfoo.so.1"), std::string::npos) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find(dir.Sub("app")), std::string::npos);
  EXPECT_NE(missing.status().message().find("LD_LIBRARY_PATH"), std::string::npos);
}

TEST(ElfClosure, LdSoConfDirectoriesAreSearchedAndReported) {
  TempDir dir("ofn-elf");
  ASSERT_EQ(::mkdir(dir.Sub("lib").c_str(), 0755), 0);
  auto lib = RunTool({"sh", "-c",
                      "cd " + dir.path() + " && printf 'int bar() { return 7; }\\n' > bar.cc && "
                      "g++ -shared -fPIC -Wl,-soname,libbar.so -o lib/libbar.so bar.cc"});
  ASSERT_TRUE(lib.ok()) << lib.Describe();
  std::string bin = Compile(dir, "app", "int bar();\nint main() { return bar() == 7 ? 0 : 1; }\n",
                            {"-L" + dir.Sub("lib"), "-lbar"});
  EXPECT_EQ(ResolveClosure(bin).status().code(), StatusCode::kNotFound) << "no RUNPATH, not in ld.so.conf";
  ASSERT_TRUE(WriteFile(dir.Sub("ld.so.conf"), dir.Sub("lib") + "\n").ok());
  ClosureOptions o;
  o.ld_so_conf = dir.Sub("ld.so.conf");
  auto c = ResolveClosure(bin, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(FindByPath(*c, dir.Sub("lib/libbar.so")), nullptr);
  // The image has no ld.so.cache: this directory must be on LD_LIBRARY_PATH,
  // libc's (a system dir of the loader) need not.
  EXPECT_EQ(c->library_path, std::vector<std::string>{dir.Sub("lib")});
}

TEST(ElfClosure, LdSoConfFollowsIncludes) {
  TempDir dir("ofn-elf");
  ASSERT_EQ(::mkdir(dir.Sub("conf.d").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(dir.Sub("ld.so.conf"), "# top\n/opt/first/\ninclude conf.d/*.conf\n/opt/last # note\n").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("conf.d/b.conf"), "/opt/b\nhwcap 0 nosegneg\n/opt/first\n").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("conf.d/a.conf"), "  /opt/a\n\ninclude " + dir.Sub("ld.so.conf") + "\n").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("conf.d/ignored.txt"), "/opt/no\n").ok());
  EXPECT_EQ(ReadLdSoConf(dir.Sub("ld.so.conf")),
            (std::vector<std::string>{"/opt/first", "/opt/a", "/opt/b", "/opt/last"}));
  EXPECT_TRUE(ReadLdSoConf(dir.Sub("none.conf")).empty());
}

std::string Header64(uint16_t machine = 62, uint16_t phnum = 1, uint64_t phoff = 64) {
  std::string h(64, '\0');
  h.replace(0, 7, "\x7f" "ELF\x02\x01\x01", 7);
  h[16] = 2;  // ET_EXEC
  h[18] = static_cast<char>(machine & 0xff);
  h[19] = static_cast<char>(machine >> 8);
  for (int i = 0; i < 8; ++i) h[32 + i] = static_cast<char>(phoff >> (8 * i));
  h[54] = 56;
  h[56] = static_cast<char>(phnum & 0xff);
  h[57] = static_cast<char>(phnum >> 8);
  return h;
}

TEST(ElfClosure, MalformedInputsAreClearErrors) {
  auto expect_error = [](std::string_view bytes, const std::string& words) {
    auto r = ParseElf(bytes);
    ASSERT_FALSE(r.ok()) << words;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().ToString();
  };
  expect_error("", "not an ELF file");
  expect_error("#!/bin/sh\necho hi\n", "not an ELF file");
  expect_error(std::string("\x7f" "ELF\x02\x01\x01", 7), "truncated ELF header");
  std::string elf32 = Header64();
  elf32[4] = 1;
  expect_error(elf32, "32-bit ELF is not supported");
  std::string be = Header64();
  be[5] = 2;
  expect_error(be, "big-endian");
  expect_error(Header64(40), "unsupported machine 40");
  expect_error(Header64(62, 1, 1 << 20), "program headers past the end");
  expect_error(Header64(62, 60000), "absurd program header count");
  expect_error(Header64(62, 0), "no program headers");

  // Every prefix of a real binary: an error or a result, never a crash.
  auto ls = ReadFile("/bin/ls");
  ASSERT_TRUE(ls.has_value());
  for (size_t n = 0; n < std::min<size_t>(ls->size(), 16384); n += 61) {
    auto r = ParseElf(std::string_view(*ls).substr(0, n));
    if (n < 64) {
      EXPECT_FALSE(r.ok()) << n;
    }
  }
  EXPECT_TRUE(ParseElf(*ls).ok());
  // A truncated file on disk, and a text file, through ResolveClosure.
  TempDir dir("ofn-elf");
  ASSERT_TRUE(WriteFile(dir.Sub("trunc"), ls->substr(0, 40)).ok());
  ASSERT_TRUE(WriteFile(dir.Sub("text"), "hello\n").ok());
  ASSERT_TRUE(WriteFile(dir.Sub("elf32"), elf32).ok());
  for (const char* f : {"trunc", "text", "elf32"}) {
    auto r = ResolveClosure(dir.Sub(f));
    ASSERT_FALSE(r.ok()) << f;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(dir.Sub(f)), std::string::npos) << "names the file";
  }
  EXPECT_EQ(ResolveClosure(dir.Sub("none")).status().code(), StatusCode::kNotFound);
}

TEST(ElfClosure, DefaultDirsPerArchitecture) {
  EXPECT_EQ(DefaultLibraryDirs(ElfMachine::kX86_64).front(), "/lib/x86_64-linux-gnu");
  EXPECT_EQ(DefaultLibraryDirs(ElfMachine::kAarch64).front(), "/lib/aarch64-linux-gnu");
  auto aarch64 = ParseElf(Header64(183) + std::string(56, '\0'));  // one PT_NULL
  ASSERT_TRUE(aarch64.ok()) << aarch64.status().ToString();
  EXPECT_EQ(aarch64->machine, ElfMachine::kAarch64);
  EXPECT_TRUE(aarch64->interpreter.empty());
}

}  // namespace
}  // namespace ofn::build
