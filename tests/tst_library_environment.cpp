// planLibraryEnvironment (core/runtime/library_environment): the variables
// PrefLab sets before re-executing itself, for each BLAS it may find loaded,
// and the OpenMP build of OpenBLAS found beside the loaded one
// (core/runtime/blas_library). The last case checks the mechanism end to
// end: this test process re-executed itself, so where Debian's OpenMP build
// is installed it is the one loaded now.
#include "core/runtime/blas_library.h"
#include "core/runtime/library_environment.h"
#include "support/test_main.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <ATen/ATen.h>

#include <cstdlib>

using namespace preflab;

Q_DECLARE_METATYPE(preflab::BlasThreading)

namespace {

const char* const kOmpFolder = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

// "NAME=VALUE" for a set variable, "NAME unset" for a removed one, sorted by name.
QStringList describe(const EnvironmentPlan& plan) {
    QStringList out;
    for (const auto& [name, value] : plan.changes) {
        out << QString::fromStdString(name) + (value ? "=" + QString::fromStdString(*value) : QStringLiteral(" unset"));
    }
    return out;
}

std::map<std::string, std::string> variables(const QStringList& assignments) {
    std::map<std::string, std::string> out;
    for (const QString& a : assignments) {
        const qsizetype eq = a.indexOf('=');
        out[a.left(eq).toStdString()] = a.mid(eq + 1).toStdString();
    }
    return out;
}

}  // namespace

class TestLibraryEnvironment : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void plan_data() {
        QTest::addColumn<QStringList>("set");
        QTest::addColumn<bool>("avx512");
        QTest::addColumn<BlasThreading>("loaded");
        QTest::addColumn<QString>("openMpFolder");
        QTest::addColumn<QStringList>("changes");
        QTest::addColumn<BlasThreading>("after");
        const QString omp = kOmpFolder;
        const QStringList quiet{"GLOG_minloglevel=3"};
        QTest::newRow("pthread build, OpenMP build beside it: put first, no passive waiting")
            << QStringList{} << false << BlasThreading::Pthreads << omp << QStringList{"GLOG_minloglevel=3", "LD_LIBRARY_PATH=" + omp}
            << BlasThreading::OpenMp;
        QTest::newRow("a library path of the user's is kept after it")
            << QStringList{"LD_LIBRARY_PATH=/opt/x/lib"} << false << BlasThreading::Pthreads << omp
            << QStringList{"GLOG_minloglevel=3", "LD_LIBRARY_PATH=" + omp + ":/opt/x/lib"} << BlasThreading::OpenMp;
        QTest::newRow("reference BLAS, OpenMP build beside it: put first")
            << QStringList{} << false << BlasThreading::NotOpenBlas << omp << QStringList{"GLOG_minloglevel=3", "LD_LIBRARY_PATH=" + omp}
            << BlasThreading::OpenMp;
        QTest::newRow("pthread build alone: passive waiting")
            << QStringList{} << false << BlasThreading::Pthreads << QString() << QStringList{"GLOG_minloglevel=3", "OMP_WAIT_POLICY=PASSIVE"}
            << BlasThreading::Pthreads;
        QTest::newRow("PREFLAB_OPENMP_BLAS=0 keeps the alternatives' choice")
            << QStringList{"PREFLAB_OPENMP_BLAS=0"} << false << BlasThreading::Pthreads << omp
            << QStringList{"GLOG_minloglevel=3", "OMP_WAIT_POLICY=PASSIVE"} << BlasThreading::Pthreads;
        QTest::newRow("OpenMP build already loaded: nothing to put first, no passive waiting")
            << QStringList{} << false << BlasThreading::OpenMp << QString() << quiet << BlasThreading::OpenMp;
        QTest::newRow("the user's wait policy is kept")
            << QStringList{"OMP_WAIT_POLICY=ACTIVE"} << false << BlasThreading::Pthreads << QString() << quiet << BlasThreading::Pthreads;
        QTest::newRow("AVX-512: SkylakeX kernels and ATen's avx512 copy")
            << QStringList{"OMP_WAIT_POLICY=PASSIVE", "GLOG_minloglevel=3"} << true << BlasThreading::Pthreads << QString()
            << QStringList{"ATEN_CPU_CAPABILITY=avx512", "OPENBLAS_CORETYPE=SkylakeX"} << BlasThreading::Pthreads;
        QTest::newRow("AVX-512: the slower Haswell kernels replaced")
            << QStringList{"OMP_WAIT_POLICY=PASSIVE", "GLOG_minloglevel=3", "OPENBLAS_CORETYPE=Haswell", "ATEN_CPU_CAPABILITY=avx512"} << true
            << BlasThreading::Pthreads << QString() << QStringList{"OPENBLAS_CORETYPE=SkylakeX"} << BlasThreading::Pthreads;
        QTest::newRow("no AVX-512: inherited AVX-512 choices removed")
            << QStringList{"OMP_WAIT_POLICY=PASSIVE", "GLOG_minloglevel=3", "OPENBLAS_CORETYPE=SkylakeX", "ATEN_CPU_CAPABILITY=avx512"}
            << false << BlasThreading::Pthreads << QString() << QStringList{"ATEN_CPU_CAPABILITY unset", "OPENBLAS_CORETYPE unset"}
            << BlasThreading::Pthreads;
        QTest::newRow("everything already as planned: no change, so no re-execution")
            << QStringList{"GLOG_minloglevel=3", "OPENBLAS_CORETYPE=SkylakeX", "ATEN_CPU_CAPABILITY=avx512"} << true << BlasThreading::OpenMp
            << QString() << QStringList{} << BlasThreading::OpenMp;
    }
    void plan() {
        QFETCH(QStringList, set);
        QFETCH(bool, avx512);
        QFETCH(BlasThreading, loaded);
        QFETCH(QString, openMpFolder);
        QFETCH(QStringList, changes);
        QFETCH(BlasThreading, after);
        EnvironmentInputs in;
        in.variables = variables(set);
        in.avx512 = avx512;
        in.blas = loaded;
        in.openMpBlasFolder = openMpFolder.toStdString();
        const EnvironmentPlan plan = planLibraryEnvironment(in);
        QCOMPARE(describe(plan), changes);
        QCOMPARE(plan.blasAfter, after);
    }

    // Debian's layout: each build in its own folder under the multiarch folder.
    void openMpFolderBesideTheLoadedOne() {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        for (const char* build : {"openblas-pthread", "openblas-openmp", "blas", "openblas-serial"}) {
            QVERIFY(QDir(root.path()).mkpath(build));
        }
        auto touch = [&](const QString& rel) {
            QFile f(root.filePath(rel));
            QVERIFY(f.open(QIODevice::WriteOnly));
        };
        touch("openblas-pthread/libblas.so.3");
        touch("blas/libblas.so.3");
        const std::string pthread = root.filePath("openblas-pthread/libblas.so.3").toStdString();
        // Not installed: the folder is there (as after a removal), its library not.
        QCOMPARE(openMpBlasFolderBeside(pthread), std::string());
        touch("openblas-openmp/libblas.so.3");
        QCOMPARE(QString::fromStdString(openMpBlasFolderBeside(pthread)), root.filePath("openblas-openmp"));
        QCOMPARE(QString::fromStdString(openMpBlasFolderBeside(root.filePath("blas/libblas.so.3").toStdString())),
                 root.filePath("openblas-openmp"));
        // Already the OpenMP build, or nothing known: nothing to put first.
        QCOMPARE(openMpBlasFolderBeside(root.filePath("openblas-openmp/libblas.so.3").toStdString()), std::string());
        QCOMPARE(openMpBlasFolderBeside(std::string()), std::string());
    }

    // This process: LibTorch loaded a BLAS, and it re-executed itself through
    // applyLibraryEnvironment (support/test_main.h), so where the OpenMP
    // build is installed (setup-debian.sh installs it) it is the one loaded.
    void thisProcessLoadedTheOpenMpBuild() {
        (void)at::ones({2, 2}).mm(at::ones({2, 2}));  // LibTorch is loaded with its BLAS
        const LoadedBlas blas = loadedBlas();
        qInfo("loaded: %s, %s", blasThreadingName(blas.threading).c_str(), blas.path.c_str());
        QVERIFY2(!blas.path.empty(), "dladdr found no library holding sgemm_");
        const bool installed = QFile::exists(QString(kOmpFolder) + "/libblas.so.3");
        const char* optOut = std::getenv("PREFLAB_OPENMP_BLAS");
        if (std::getenv("CI")) QVERIFY2(installed, "CI: setup-debian.sh installs libopenblas0-openmp");
        if (installed && !(optOut && std::string(optOut) == "0")) {
            QCOMPARE(blas.threading, BlasThreading::OpenMp);
            QVERIFY2(QString::fromStdString(blas.path).startsWith(kOmpFolder), blas.path.c_str());
        }
    }
};

PREFLAB_TEST_MAIN(TestLibraryEnvironment)
#include "tst_library_environment.moc"
