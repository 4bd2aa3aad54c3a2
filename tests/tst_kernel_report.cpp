// kernelReport (core/nn/kernel_report): the benchmarks' and `preflab
// version`'s account of the kernels this process runs. It must name the BLAS
// the process loaded (OpenBLAS on Debian, with the core type it chose), the
// vector-loop copies the loader picks on this CPU, and the row-group plan.
#include "core/nn/bf16_products.h"
#include "core/nn/kernel_report.h"
#include "core/runtime/compute_threads.h"
#include "support/test_main.h"

#include <QString>

using namespace preflab;

class TestKernelReport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void namesWhatThisProcessRuns() {
        QStringList lines;
        for (const std::string& l : kernelReport()) lines << QString::fromStdString(l);
        const QString all = lines.join('\n');
        qInfo("%s", qPrintable(all));
        // setup-debian.sh installs OpenBLAS; LibTorch loads it as its BLAS.
        QVERIFY2(lines.value(0).startsWith("BLAS: OpenBLAS") && lines.value(0).contains(", core "), qPrintable(lines.value(0)));
#if defined(__x86_64__) && defined(__GNUC__)
        const QString wide = __builtin_cpu_supports("avx512f") ? "avx512f" : __builtin_cpu_supports("avx2") ? "avx2" : "baseline";
        const QString narrow = __builtin_cpu_supports("avx2") ? "avx2" : "baseline";
        QCOMPARE(QString::fromStdString(vectorLoopVariant(true)), wide);
        QCOMPARE(QString::fromStdString(vectorLoopVariant(false)), narrow);
#endif
        // bf16 one-row products: the AVX512-BF16 kernel where the CPU has it
        // (cpuid, independently of bf16ProductsAvailable), else the widening loop.
#if defined(__x86_64__) && defined(__GNUC__)
        const bool nativeBf16 = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw");
#else
        const bool nativeBf16 = false;
#endif
        QCOMPARE(bf16ProductsAvailable(), nativeBf16);
        if (nativeBf16) {
            QVERIFY(all.contains("bf16 PrefLab's AVX512-BF16 kernel"));
        } else {
            QVERIFY(all.contains(QString("widening loop, %1 copy").arg(QString::fromStdString(vectorLoopVariant(true)))));
        }
        QVERIFY(all.contains(QString("attention loops: %1 copy").arg(QString::fromStdString(vectorLoopVariant(false)))));
        QVERIFY(all.contains(QString("%1 row groups on up to %2 cores").arg(kSmallModelRowGroups).arg(availableCores())));
    }
};

PREFLAB_TEST_MAIN(TestKernelReport)
#include "tst_kernel_report.moc"
