// FusedAdamW (core/nn/fused_adamw): its one-pass update must follow
// LibTorch's AdamW step for step, checked against torch::optim::AdamW run on
// copies of the same parameters with the same gradients: with and without
// weight decay, over the warm-up of the bias corrections (25 steps), on
// tensors large enough to be split over threads and small ones, with the
// learning rate changed between steps (as the schedules do); a parameter
// that is not contiguous and amsgrad take LibTorch's operations. Its state
// is an AdamW's: saved by one and loaded by the other, both go on alike.
#include "core/nn/fused_adamw.h"
#include "support/test_main.h"

#include <ATen/ATen.h>
#include <torch/serialize.h>

#include <sstream>

using namespace preflab;

namespace {

std::vector<at::Tensor> makeParams(bool withTransposed) {
    torch::manual_seed(5);
    std::vector<at::Tensor> ps{at::randn({384, 1536}) * 0.02, at::randn({1536}) * 0.02, at::randn({7}), at::randn({3, 5})};
    if (withTransposed) ps.push_back(at::randn({64, 48}).t());  // not contiguous
    for (at::Tensor& p : ps) p.set_requires_grad(true);
    return ps;
}

std::vector<at::Tensor> copies(const std::vector<at::Tensor>& ps) {
    std::vector<at::Tensor> out;
    for (const at::Tensor& p : ps) {
        at::Tensor c = p.detach().clone();
        if (!p.is_contiguous()) c = p.detach().t().contiguous().t();  // the same layout
        out.push_back(c.set_requires_grad(true));
    }
    return out;
}

// The largest |a - b| / (1 + |b|) over every element: relative for large
// values, absolute near zero (where a float's rounding is absolute).
double largestGap(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const at::Tensor gap = (a[i] - b[i]).abs() / (b[i].abs() + 1.0);
        worst = std::max(worst, gap.max().item<double>());
    }
    return worst;
}

void setGrads(std::vector<at::Tensor>& a, std::vector<at::Tensor>& b, int step) {
    torch::manual_seed(100 + step);
    for (size_t i = 0; i < a.size(); ++i) {
        const at::Tensor g = at::randn(a[i].sizes()) * (i % 2 ? 1e-3 : 1.0);
        a[i].mutable_grad() = g.clone();
        b[i].mutable_grad() = g.clone();
    }
}

}  // namespace

class TestFusedAdamW : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }

    void followsLibTorchsAdamW_data() {
        QTest::addColumn<double>("weightDecay");
        QTest::addColumn<bool>("amsgrad");
        QTest::addColumn<bool>("withTransposed");
        QTest::newRow("no decay") << 0.0 << false << false;
        QTest::newRow("decay 0.01") << 0.01 << false << false;
        QTest::newRow("a transposed parameter") << 0.01 << false << true;
        QTest::newRow("amsgrad") << 0.0 << true << false;
    }
    void followsLibTorchsAdamW() {
        QFETCH(double, weightDecay);
        QFETCH(bool, amsgrad);
        QFETCH(bool, withTransposed);
        std::vector<at::Tensor> mine = makeParams(withTransposed), theirs = copies(mine);
        const torch::optim::AdamWOptions o = torch::optim::AdamWOptions(1e-3).weight_decay(weightDecay).amsgrad(amsgrad);
        FusedAdamW fused(mine, o);
        torch::optim::AdamW reference(theirs, o);
        const std::vector<at::Tensor> start = copies(mine);
        for (int step = 1; step <= 25; ++step) {
            setGrads(mine, theirs, step);
            const double lr = 1e-3 * (step % 5 + 1) / 5.0;
            for (torch::optim::Optimizer* opt : {static_cast<torch::optim::Optimizer*>(&fused), static_cast<torch::optim::Optimizer*>(&reference)}) {
                for (auto& group : opt->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
            }
            fused.step();
            reference.step();
        }
        // Every parameter moved (by about lr per step), and both agree to
        // float rounding (the moments' multiply-adds may round once or twice).
        QVERIFY(largestGap(mine, start) > 1e-3);
        const double gap = largestGap(mine, theirs);
        qInfo("largest gap to LibTorch's AdamW: %.3g", gap);
        QVERIFY2(gap < 1e-6, qPrintable(QString::number(gap)));
    }

    void stateIsAnAdamWs() {
        std::vector<at::Tensor> mine = makeParams(false), theirs = copies(mine);
        const torch::optim::AdamWOptions o = torch::optim::AdamWOptions(1e-3).weight_decay(0.0);
        FusedAdamW fused(mine, o);
        for (int step = 1; step <= 3; ++step) {
            setGrads(mine, theirs, step);
            fused.step();
        }
        // Saved by FusedAdamW, loaded by LibTorch's AdamW on equal weights.
        std::ostringstream saved;
        {
            torch::serialize::OutputArchive archive;
            fused.save(archive);
            archive.save_to(saved);
        }
        for (size_t i = 0; i < mine.size(); ++i) {
            torch::NoGradGuard g;
            theirs[i].copy_(mine[i]);
        }
        torch::optim::AdamW reference(theirs, o);
        {
            std::istringstream in(saved.str());
            torch::serialize::InputArchive archive;
            archive.load_from(in);
            reference.load(archive);
        }
        for (int step = 4; step <= 8; ++step) {
            setGrads(mine, theirs, step);
            fused.step();
            reference.step();
        }
        const double gap = largestGap(mine, theirs);
        qInfo("largest gap to LibTorch's AdamW: %.3g", gap);
        QVERIFY2(gap < 1e-6, qPrintable(QString::number(gap)));
        const auto& state = static_cast<const torch::optim::AdamWParamState&>(*reference.state().begin()->second);
        QCOMPARE(state.step(), int64_t(8));
    }
};

PREFLAB_TEST_MAIN(TestFusedAdamW)
#include "tst_fused_adamw.moc"
