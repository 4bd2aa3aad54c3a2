// The safetensors reader (core/hf/safetensors.h): round trips in F32, F16 and
// BF16, metadata, and each hostile or damaged file giving its own clear error
// that names the file (and the tensor where there is one).
#include "core/hf/safetensors_tensors.h"
#include "support/test_main.h"

#include <QFile>
#include <QTemporaryDir>

#include <cstring>

using namespace preflab;

namespace {

// A file from a header text and a data buffer, byte for byte.
QByteArray stBytes(const QByteArray& header, const QByteArray& data, int64_t declaredLength = -1) {
    QByteArray out(8, '\0');
    const uint64_t n = declaredLength >= 0 ? static_cast<uint64_t>(declaredLength) : static_cast<uint64_t>(header.size());
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::string writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
    const QString path = dir.path() + "/" + name;
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(bytes);
    return path.toStdString();
}

QString errorOf(const std::string& path) {
    try {
        SafetensorsFile file(path);
    } catch (const SafetensorsError& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data() {
        QTest::addColumn<int>("dtype");
        QTest::newRow("F32") << int(at::kFloat);
        QTest::newRow("F16") << int(at::kHalf);
        QTest::newRow("BF16") << int(at::kBFloat16);
    }

    void roundTrip() {
        QFETCH(int, dtype);
        const auto type = static_cast<at::ScalarType>(dtype);
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/w.safetensors").toStdString();
        const at::Tensor a = at::randn({3, 5}).to(type);
        const at::Tensor b = at::arange(7).to(type);
        const at::Tensor empty = at::zeros({0, 4}).to(type);
        saveTensors(path, {{"layer.weight", a}, {"layer.bias", b}, {"empty", empty}}, {{"format", "pt"}});
        SafetensorsFile f(path);
        QCOMPARE(f.tensors().size(), size_t(3));
        QCOMPARE(f.metadata().at("format"), std::string("pt"));
        const StTensorInfo* info = f.find("layer.weight");
        QVERIFY(info);
        QCOMPARE(info->shape, (std::vector<int64_t>{3, 5}));
        QCOMPARE(dtypeSize(info->dtype) * 15, size_t(info->end - info->begin));
        QVERIFY(at::equal(loadTensor(f, "layer.weight", type), a));
        QVERIFY(at::equal(loadTensor(f, "layer.bias", type), b));
        QCOMPARE(loadTensor(f, "empty", type).sizes().vec(), (std::vector<int64_t>{0, 4}));
        // Converted on load: the stored values, widened exactly to fp32.
        QVERIFY(at::equal(loadTensor(f, "layer.weight", at::kFloat), a.to(at::kFloat)));
        // The data starts 8-byte aligned, as the reference writer leaves it.
        QFile raw(QString::fromStdString(path));
        raw.open(QIODevice::ReadOnly);
        const QByteArray head = raw.read(8);
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(head[i]);
        QCOMPARE(n % 8, uint64_t(0));
        try {
            loadTensor(f, "missing", at::kFloat);
            QFAIL("no error for a missing tensor");
        } catch (const SafetensorsError& e) {
            QVERIFY(QString(e.what()).contains("no tensor named 'missing'"));
        }
    }

    // Hand-made damaged files: each error names the file, the tensor where
    // one is at fault, and what is wrong.
    void hostileFiles_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("mentions");
        QTest::addColumn<QString>("tensor");
        const QByteArray eight(8, 'x');
        QTest::newRow("header length beyond the file")
            << stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight, 4096) << "beyond the end of the file" << "";
        QTest::newRow("too short") << QByteArray("abcd") << "too short" << "";
        QTest::newRow("overlapping offsets")
            << stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                       QByteArray(12, 'x'))
            << "overlap tensor 'a'" << "b";
        QTest::newRow("wrong byte count for the shape")
            << stBytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight) << "need 3 x 4 bytes" << "w";
        QTest::newRow("unknown dtype")
            << stBytes(R"({"q":{"dtype":"Q4_K","shape":[8],"data_offsets":[0,8]}})", eight) << "unknown or unsupported dtype 'Q4_K'" << "q";
        QTest::newRow("non-UTF-8 header")
            << stBytes(QByteArray("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), eight) << "not valid UTF-8" << "";
        QTest::newRow("truncated data")
            << stBytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight) << "beyond the data" << "a";
        QTest::newRow("gap between tensors")
            << stBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                       QByteArray(12, 'x'))
            << "gap of 4 bytes" << "b";
        QTest::newRow("bytes after the last tensor")
            << stBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight) << "cover 4 of the 8 data bytes" << "";
        QTest::newRow("not JSON") << stBytes("{\"a\": [1, 2", eight) << "not valid JSON" << "";
        QTest::newRow("not an object") << stBytes("[1,2,3]", {}) << "not a JSON object" << "";
        QTest::newRow("negative offset")
            << stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", eight) << "non-negative integers" << "a";
        QTest::newRow("offsets backwards")
            << stBytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight) << "run backwards" << "a";
        QTest::newRow("fractional dimension")
            << stBytes(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}})", eight) << "not a non-negative integer" << "a";
        QTest::newRow("overflowing shape")
            << stBytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", eight)
            << "impossibly large" << "a";
        QTest::newRow("metadata not strings")
            << stBytes(R"({"__metadata__":{"x":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight)
            << "__metadata__ entry 'x'" << "";
        QTest::newRow("entry not an object") << stBytes(R"({"a":[0,8]})", {}) << "expected an object" << "a";
    }

    void hostileFiles() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, mentions);
        QFETCH(QString, tensor);
        QTemporaryDir dir;
        const std::string path = writeFile(dir, "bad.safetensors", bytes);
        const QString error = errorOf(path);
        QVERIFY2(!error.isEmpty(), "no error");
        QVERIFY2(error.startsWith(QString::fromStdString(path) + ": "), qPrintable(error));
        QVERIFY2(error.contains(mentions), qPrintable(error));
        if (!tensor.isEmpty()) QVERIFY2(error.contains("tensor '" + tensor + "'"), qPrintable(error));
    }

    void missingFileAndDirectory() {
        QTemporaryDir dir;
        QVERIFY(errorOf((dir.path() + "/nope.safetensors").toStdString()).contains("cannot open"));
        QVERIFY(errorOf(dir.path().toStdString()).contains("not a regular file"));
    }

    // Every truncation of a valid file is an error, never a crash or a success.
    void everyTruncationFails() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/ok.safetensors").toStdString();
        saveTensors(path, {{"a", at::randn({4, 4})}, {"b", at::randn({3}).to(at::kBFloat16)}});
        QFile f(QString::fromStdString(path));
        f.open(QIODevice::ReadOnly);
        const QByteArray whole = f.readAll();
        for (int cut = 0; cut < whole.size(); ++cut) {
            const std::string p = writeFile(dir, "cut.safetensors", whole.left(cut));
            QVERIFY2(!errorOf(p).isEmpty(), qPrintable(QString("cut at %1 parsed").arg(cut)));
        }
        QVERIFY(errorOf(path).isEmpty());
    }
};

PREFLAB_TEST_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
