// linearForward (core/nn/single_row_linear): one row without autograd takes
// a matrix-vector path (fp32: at::addmv; bf16: a hand-written loop); it must
// give what a Linear layer gives, checked here against a double-precision
// product of the same values, for row shapes [K], [1,K], [1,1,K], with and
// without bias, K not a multiple of the loop's 16 lanes, and N large enough
// to be split over threads.
#include "core/nn/single_row_linear.h"
#include "support/test_main.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

using namespace preflab;

class TestSingleRowLinear : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }

    void matchesADoublePrecisionProduct_data() {
        QTest::addColumn<bool>("bf16");
        QTest::addColumn<int>("rank");
        QTest::addColumn<bool>("withBias");
        QTest::addColumn<int>("K");
        for (const bool bf16 : {false, true}) {
            for (const int rank : {1, 2, 3}) {
                for (const bool withBias : {false, true}) {
                    for (const int K : {37, 768}) {
                        QTest::addRow("%s, rank %d, %s, K %d", bf16 ? "bf16" : "fp32", rank,
                                      withBias ? "bias" : "no bias", K)
                            << bf16 << rank << withBias << K;
                    }
                }
            }
        }
    }
    void matchesADoublePrecisionProduct() {
        QFETCH(bool, bf16);
        QFETCH(int, rank);
        QFETCH(bool, withBias);
        QFETCH(int, K);
        const int64_t N = 301;  // several grains of 64 rows, and a ragged last one
        const at::ScalarType dtype = bf16 ? at::kBFloat16 : at::kFloat;
        torch::manual_seed(static_cast<uint64_t>(K + rank));
        const at::Tensor weight = at::randn({N, K}).to(dtype);
        const at::Tensor bias = withBias ? at::randn({N}).to(dtype) : at::Tensor();
        std::vector<int64_t> shape(static_cast<size_t>(rank - 1), 1);
        shape.push_back(K);
        const at::Tensor x = at::randn(shape).to(dtype);
        torch::NoGradGuard noGrad;
        const at::Tensor y = linearForward(x, weight, bias);
        std::vector<int64_t> expectedShape(static_cast<size_t>(rank - 1), 1);
        expectedShape.push_back(N);
        QCOMPARE(y.sizes().vec(), expectedShape);
        QCOMPARE(y.scalar_type(), dtype);
        at::Tensor exact = at::mv(weight.to(at::kDouble), x.reshape({-1}).to(at::kDouble));
        if (withBias) exact += bias.to(at::kDouble);
        const at::Tensor err = (y.reshape({-1}).to(at::kDouble) - exact).abs();
        // fp32: accumulation rounding; bf16: the result's rounding to 8 bits (2^-8 relative).
        const at::Tensor allowed = bf16 ? exact.abs() * (1.0 / 256) + 1e-3 : exact.abs() * 1e-5 + 1e-4;
        QVERIFY2((err <= allowed).all().item<bool>(),
                 qPrintable(QString("max |error| %1").arg(err.max().item<double>())));
    }

    // Autograd on, several rows or a transposed weight: LibTorch's own Linear,
    // the same values.
    void otherCasesAreLibTorchsLinear() {
        torch::manual_seed(3);
        const at::Tensor weight = at::randn({20, 8}).requires_grad_(), bias = at::randn({20});
        const at::Tensor x = at::randn({1, 8});
        const at::Tensor y = linearForward(x, weight, bias);
        QVERIFY(y.requires_grad());
        QVERIFY(at::allclose(y, at::linear(x, weight, bias)));
        torch::NoGradGuard noGrad;
        const at::Tensor rows = at::randn({3, 8});
        QVERIFY(at::allclose(linearForward(rows, weight, bias), at::linear(rows, weight, bias)));
        const at::Tensor transposed = at::randn({8, 20}).t();
        QVERIFY(at::allclose(linearForward(x, transposed, bias), at::linear(x, transposed, bias)));
    }
};

PREFLAB_TEST_MAIN(TestSingleRowLinear)
#include "tst_single_row_linear.moc"
