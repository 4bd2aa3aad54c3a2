#include "core/hf/safetensors.h"

#include "core/runtime/atomic_file.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringDecoder>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace preflab {
namespace {

// The reference implementation refuses headers above 100 MB; a real header
// (thousands of tensors) is well under 1 MB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DtypeName {
    StDtype dtype;
    const char* name;
    size_t size;
};
constexpr DtypeName kDtypes[] = {
    {StDtype::F32, "F32", 4}, {StDtype::F16, "F16", 2}, {StDtype::BF16, "BF16", 2}, {StDtype::F64, "F64", 8},
    {StDtype::I64, "I64", 8}, {StDtype::I32, "I32", 4}, {StDtype::I16, "I16", 2},   {StDtype::I8, "I8", 1},
    {StDtype::U8, "U8", 1},   {StDtype::Bool, "BOOL", 1},
};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
    throw SafetensorsError(file + ": " + what);
}

[[noreturn]] void failTensor(const std::string& file, const std::string& tensor, const std::string& what) {
    throw SafetensorsError(file + ": tensor '" + tensor + "': " + what);
}

// A JSON number that is an exact non-negative integer (JSON numbers are
// doubles here: exact up to 2^53, far beyond any real file).
bool exactCount(const QJsonValue& v, uint64_t& out) {
    if (!v.isDouble()) return false;
    const double d = v.toDouble();
    if (!(d >= 0) || d > 9007199254740992.0 || std::floor(d) != d) return false;
    out = static_cast<uint64_t>(d);
    return true;
}

StTensorInfo parseEntry(const std::string& file, const std::string& name, const QJsonValue& value, uint64_t dataSize) {
    if (!value.isObject()) failTensor(file, name, "expected an object with dtype, shape and data_offsets");
    const QJsonObject o = value.toObject();
    StTensorInfo t;
    t.name = name;
    const QJsonValue dtype = o.value(QStringLiteral("dtype"));
    if (!dtype.isString()) failTensor(file, name, "dtype is missing or not a string");
    const std::string dname = dtype.toString().toStdString();
    const auto known = std::find_if(std::begin(kDtypes), std::end(kDtypes), [&](const DtypeName& d) { return dname == d.name; });
    if (known == std::end(kDtypes)) {
        failTensor(file, name, "unknown or unsupported dtype '" + dname + "' (PrefLab reads F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
    }
    t.dtype = known->dtype;
    const QJsonValue shape = o.value(QStringLiteral("shape"));
    if (!shape.isArray()) failTensor(file, name, "shape is missing or not an array");
    // Elements and bytes in 128 bits: a hostile shape cannot overflow the check.
    unsigned __int128 elements = 1;
    for (const QJsonValue& dim : shape.toArray()) {
        uint64_t n = 0;
        if (!exactCount(dim, n)) failTensor(file, name, "shape has an entry that is not a non-negative integer");
        t.shape.push_back(static_cast<int64_t>(n));
        elements *= n;
        if (elements > (static_cast<unsigned __int128>(1) << 64)) failTensor(file, name, "shape is impossibly large");
    }
    const QJsonValue offsets = o.value(QStringLiteral("data_offsets"));
    const QJsonArray range = offsets.toArray();
    if (!offsets.isArray() || range.size() != 2 || !exactCount(range[0], t.begin) || !exactCount(range[1], t.end)) {
        failTensor(file, name, "data_offsets must be two non-negative integers [begin, end]");
    }
    if (t.begin > t.end) {
        failTensor(file, name, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "] run backwards");
    }
    if (t.end > dataSize) {
        failTensor(file, name, "data_offsets end " + std::to_string(t.end) + " is beyond the data (" +
                                   std::to_string(dataSize) + " bytes): the file is truncated or the header is wrong");
    }
    const unsigned __int128 bytes = elements * known->size;
    if (bytes != t.end - t.begin) {
        failTensor(file, name, "holds " + std::to_string(t.end - t.begin) + " bytes but its shape and dtype need " +
                                   std::to_string(static_cast<unsigned long long>(elements)) + " x " +
                                   std::to_string(known->size) + " bytes");
    }
    return t;
}

}  // namespace

size_t dtypeSize(StDtype d) {
    for (const DtypeName& x : kDtypes) {
        if (x.dtype == d) return x.size;
    }
    return 0;
}

std::string dtypeName(StDtype d) {
    for (const DtypeName& x : kDtypes) {
        if (x.dtype == d) return x.name;
    }
    return "?";
}

int64_t StTensorInfo::elementCount() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

StHeader parseSafetensorsHeader(const uint8_t* bytes, size_t size, uint64_t fileSize, const std::string& file) {
    if (size < 8 || fileSize < 8) fail(file, "too short to be a safetensors file (" + std::to_string(fileSize) + " bytes)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
    if (n > fileSize - 8) {
        fail(file, "header length " + std::to_string(n) + " is beyond the end of the file (" + std::to_string(fileSize) +
                       " bytes): truncated, or not a safetensors file");
    }
    if (n > kMaxHeaderBytes) fail(file, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
    if (n > size - 8) fail(file, "header not fully available (" + std::to_string(size) + " bytes read)");
    const char* json = reinterpret_cast<const char*>(bytes + 8);
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = utf8.decode(QByteArrayView(json, static_cast<qsizetype>(n)));
    if (utf8.hasError()) fail(file, "the header is not valid UTF-8");
    if (text.contains(QChar(0))) fail(file, "the header contains a NUL character");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(json, static_cast<qsizetype>(n)), &err);
    if (doc.isNull()) {
        fail(file, "the header is not valid JSON: " + err.errorString().toStdString() + " at offset " + std::to_string(err.offset));
    }
    if (!doc.isObject()) fail(file, "the header is not a JSON object");
    StHeader h;
    h.dataStart = 8 + n;
    const uint64_t dataSize = fileSize - h.dataStart;
    const QJsonObject root = doc.object();
    for (auto it = root.begin(); it != root.end(); ++it) {
        const std::string name = it.key().toStdString();
        if (name == "__metadata__") {
            if (!it.value().isObject()) fail(file, "__metadata__ is not an object of strings");
            const QJsonObject meta = it.value().toObject();
            for (auto m = meta.begin(); m != meta.end(); ++m) {
                if (!m.value().isString()) fail(file, "__metadata__ entry '" + m.key().toStdString() + "' is not a string");
                h.metadata[m.key().toStdString()] = m.value().toString().toStdString();
            }
            continue;
        }
        h.tensors.push_back(parseEntry(file, name, it.value(), dataSize));
    }
    // The tensors tile the data buffer: sorted by offset, each starts where
    // the previous ends, the last ends at the end of the file.
    std::sort(h.tensors.begin(), h.tensors.end(), [](const StTensorInfo& a, const StTensorInfo& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t cursor = 0;
    const StTensorInfo* previous = nullptr;
    for (const StTensorInfo& t : h.tensors) {
        if (t.begin < cursor) {
            failTensor(file, t.name, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                         ") overlap tensor '" + previous->name + "'");
        }
        if (t.begin > cursor) {
            failTensor(file, t.name, "leaves a gap of " + std::to_string(t.begin - cursor) + " bytes before it in the data");
        }
        cursor = t.end;
        previous = &t;
    }
    if (cursor != dataSize) {
        fail(file, "the tensors cover " + std::to_string(cursor) + " of the " + std::to_string(dataSize) +
                       " data bytes: the header and the file size disagree");
    }
    return h;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : m_path(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(path, "not a regular file");
    }
    m_mapSize = static_cast<size_t>(st.st_size);
    if (m_mapSize < 8) {
        ::close(fd);
        fail(path, "too short to be a safetensors file (" + std::to_string(m_mapSize) + " bytes)");
    }
    void* map = ::mmap(nullptr, m_mapSize, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) fail(path, std::string("cannot map: ") + std::strerror(errno));
    m_map = static_cast<const uint8_t*>(map);
    try {
        m_header = parseSafetensorsHeader(m_map, m_mapSize, m_mapSize, path);
    } catch (...) {
        ::munmap(const_cast<uint8_t*>(m_map), m_mapSize);
        throw;
    }
    for (size_t i = 0; i < m_header.tensors.size(); ++i) m_index[m_header.tensors[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() {
    if (m_map) ::munmap(const_cast<uint8_t*>(m_map), m_mapSize);
}

const StTensorInfo* SafetensorsFile::find(const std::string& name) const {
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_header.tensors[it->second];
}

const uint8_t* SafetensorsFile::bytes(const StTensorInfo& t) const {
    return m_map + m_header.dataStart + t.begin;
}

void writeSafetensors(const std::string& path, const std::vector<StTensorData>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    QJsonObject header;
    if (!metadata.empty()) {
        QJsonObject meta;
        for (const auto& [k, v] : metadata) meta[QString::fromStdString(k)] = QString::fromStdString(v);
        header[QStringLiteral("__metadata__")] = meta;
    }
    uint64_t offset = 0;
    std::vector<size_t> sizes;
    for (const StTensorData& t : tensors) {
        uint64_t n = dtypeSize(t.dtype);
        QJsonArray shape;
        for (int64_t d : t.shape) {
            shape.append(static_cast<double>(d));
            n *= static_cast<uint64_t>(d);
        }
        QJsonObject entry;
        entry[QStringLiteral("dtype")] = QString::fromStdString(dtypeName(t.dtype));
        entry[QStringLiteral("shape")] = shape;
        entry[QStringLiteral("data_offsets")] = QJsonArray{static_cast<double>(offset), static_cast<double>(offset + n)};
        header[QString::fromStdString(t.name)] = entry;
        offset += n;
        sizes.push_back(static_cast<size_t>(n));
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8 != 0) json.append(' ');  // keep the data 8-byte aligned, as the reference writer does
    AtomicFile out(path);
    char length[8];
    uint64_t n = static_cast<uint64_t>(json.size());
    for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    bool ok = out.write(length, 8) && out.write(json.constData(), static_cast<size_t>(json.size()));
    for (size_t i = 0; i < tensors.size() && ok; ++i) {
        ok = sizes[i] == 0 || out.write(static_cast<const char*>(tensors[i].data), sizes[i]);
    }
    if (!ok || !out.commit()) fail(path, out.error());
}

}  // namespace preflab
