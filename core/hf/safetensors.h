#pragma once
// Reading safetensors files (the Hugging Face weight format), written against
// the format's specification:
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    a UTF-8 JSON object: {"__metadata__": {string: string},
//              "<tensor name>": {"dtype": "F32", "shape": [2, 3],
//                                "data_offsets": [begin, end]}, ...}
//   the rest   the byte buffer; offsets are relative to its start.
// Everything is validated before any tensor is handed out: the header length
// against the file size, the header's UTF-8 and JSON, every dtype, shape and
// offset pair (in range, begin <= end, byte count = elements x dtype size, no
// two tensors overlapping, no holes). A bad file throws SafetensorsError
// naming the file, the tensor and what is wrong; nothing crashes.
//
// The file is memory-mapped: opening a multi-gigabyte checkpoint costs a few
// page-table entries, and tensor bytes are read on first touch.
// No torch in this header (see safetensors_tensors.h for the bridge).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace preflab {

class SafetensorsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class StDtype { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

// Size in bytes of one element.
size_t dtypeSize(StDtype d);
std::string dtypeName(StDtype d);

struct StTensorInfo {
    std::string name;
    StDtype dtype = StDtype::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;  // byte offsets within the data buffer
    int64_t elementCount() const;
};

struct StHeader {
    std::vector<StTensorInfo> tensors;  // in data order
    std::map<std::string, std::string> metadata;
    uint64_t dataStart = 0;             // 8 + N
};

// Parses and validates the first `size` bytes of a file named `fileName` (for
// messages) whose total size is `fileSize`. Pure: the fuzz target calls it.
StHeader parseSafetensorsHeader(const uint8_t* bytes, size_t size, uint64_t fileSize, const std::string& fileName);

class SafetensorsFile {
public:
    // Maps and validates the file; throws SafetensorsError.
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return m_path; }
    const std::vector<StTensorInfo>& tensors() const { return m_header.tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_header.metadata; }
    // nullptr when absent.
    const StTensorInfo* find(const std::string& name) const;
    // The tensor's bytes (end - begin of them), valid while the file lives.
    const uint8_t* bytes(const StTensorInfo& t) const;

private:
    std::string m_path;
    StHeader m_header;
    const uint8_t* m_map = nullptr;
    size_t m_mapSize = 0;
    std::map<std::string, size_t> m_index;
};

// Writes tensors (raw little-endian bytes of each, with its dtype and shape)
// as a safetensors file, atomically (a temporary file renamed into place).
struct StTensorData {
    std::string name;
    StDtype dtype = StDtype::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr;  // elementCount x dtypeSize bytes
};
void writeSafetensors(const std::string& path, const std::vector<StTensorData>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace preflab
