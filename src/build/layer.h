// Layer: one image layer (a gzip'd tar) written into an OciLayout from a
// list of entries and/or host directory trees, byte-for-byte deterministic.
//
// All entries are gathered first, each at a normalised path inside the image
// (no leading '/', no "." or empty components); a ".." component anywhere is
// an error naming the path, as is a relative symlink target that climbs above
// the image root (absolute targets are kept: they resolve inside the
// container). Missing parent directories are added (0755). Entries are
// written sorted by path, with the spec's mtime, so the same inputs give the
// same bytes whatever the order of readdir or of the caller.
//
// Trees are walked without following symlinks (a symlink is stored as a
// symlink); regular files are streamed from disk, never held in memory;
// devices, fifos and sockets are errors naming the host path.
//
// The tar goes through gzip (zlib, level `gzip_level`, header with mtime 0
// and OS byte 3) into a temporary file in the layout while both the diff_id
// (sha256 of the tar) and the blob digest (sha256 of the .tar.gz) are
// computed, then the file is adopted as a blob. Output is stable for a given
// zlib version and level.
//
// Thread-safety: WriteLayer may run concurrently for different specs, on the
// same layout too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "build/descriptor.h"
#include "build/digest.h"
#include "build/oci_layout.h"
#include "build/tar_writer.h"
#include "ofn/status.h"

namespace ofn::build {

struct LayerEntry {
  enum class Type { kFile, kDirectory, kSymlink };
  Type type = Type::kFile;
  std::string path;         // inside the image, e.g. "/app/hello"
  uint32_t mode = 0644;     // kept: 0777 | sticky (see tar_writer.h)
  std::string content;      // kFile: the bytes, unless source_file is set
  std::string source_file;  // kFile: stream the bytes from this host file instead
  std::string link_target;  // kSymlink

  static LayerEntry File(std::string path, std::string content, uint32_t mode = 0644);
  static LayerEntry FileFrom(std::string path, std::string source_file, uint32_t mode = 0644);
  static LayerEntry Directory(std::string path, uint32_t mode = 0755);
  static LayerEntry Symlink(std::string path, std::string target);
};

// The host directory `host_dir`, its contents placed under `image_root`
// (e.g. "/app"); the root directory itself takes host_dir's mode.
struct LayerTree {
  std::string host_dir;
  std::string image_root;
};

struct LayerSpec {
  std::vector<LayerEntry> entries;
  std::vector<LayerTree> trees;
  int64_t mtime = 0;           // every entry's mtime (seconds since the epoch)
  int gzip_level = 6;          // zlib level 1..9 (part of what makes the bytes)
  std::string created_by;      // the history line for this layer in the image config
};

struct Layer {
  Descriptor blob;             // application/vnd.oci.image.layer.v1.tar+gzip
  Digest diff_id;              // sha256 of the uncompressed tar
  std::string created_by;
};

// Writes the layer into `layout` and describes it. An entry that appears
// twice (a directory twice is fine), a path under a non-directory, or any of
// the errors above: InvalidArgument naming the path.
Result<Layer> WriteLayer(OciLayout& layout, const LayerSpec& spec);

// The tar stream alone (what WriteLayer compresses), for tests and tools.
Status WriteLayerTar(const LayerSpec& spec, const TarSink& sink);

// "/a//./b/" -> "a/b"; ".." anywhere is InvalidArgument naming the path.
// The root itself gives "".
Result<std::string> NormalizeImagePath(std::string_view path);

}  // namespace ofn::build
