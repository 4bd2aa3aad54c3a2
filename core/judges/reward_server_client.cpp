// The protocol, as OpenRLHF speaks it (github.com/OpenRLHF/OpenRLHF, commit
// 3c3be6234e0cb353e76bb8019947db9dfe99fca7, 2026-08-13):
//   - openrlhf/utils/agent.py, SingleTurnAgentExecutor._fetch_rewards_via_http
//     (and openrlhf/utils/remote_rm_utils.py, remote_rm_fn_ray, before
//     commit 62987083): POST to the --remote_rm_url as JSON
//     {"query": [prompt + response, ...], "prompts": [prompt, ...],
//      "labels": [label, ...]}, 180 s timeout, 5 tries; a reply's reward is
//     its "rewards" (its "scores", when present, only filter samples);
//   - openrlhf/cli/serve_rm.py: @app.post("/get_reward") reads data["query"]
//     and answers {"rewards": [...], "scores": [...], "extra_logs": {...}},
//     one float per query, in order.
//   - openrlhf/datasets/prompts_dataset.py: a prompt without a label key has
//     label "" (what PrefLab sends).
//
// Why the network has its own thread: the caller is the training worker,
// whose thread runs an event loop that also delivers the run's commands
// (pause, resume, label). A local QEventLoop there would run those commands
// in the middle of a step, re-entering the loop. So the requests live on a
// private QThread with its QNetworkAccessManager, and the caller waits for
// each attempt's outcome (a std::future) without processing events.
#include "core/judges/reward_server_client.h"

#include "core/values/reward_server_url.h"

#include <QByteArray>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <limits>
#include <thread>

namespace preflab {
namespace {

// What one attempt ended with, as plain values handed to the caller's thread.
struct Attempt {
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorString;
    int status = 0;  // HTTP status, 0 when there was no answer
    QString reason;
    QString location;  // a redirect's target
    QByteArray body;
    bool timedOut = false;
    bool oversized = false;
};

// Lives on the client's thread; one request at a time.
class Transport : public QObject {
public:
    void post(const QNetworkRequest& request, const QByteArray& body, int64_t timeoutMs, int64_t maxBytes,
              std::shared_ptr<std::promise<Attempt>> done) {
        if (!m_nam) m_nam = new QNetworkAccessManager(this);
        auto state = std::make_shared<Attempt>();
        QNetworkReply* reply = m_nam->post(request, body);
        m_current = reply;
        // Qt's own buffer stays small; what arrives is moved into state->body at once.
        reply->setReadBufferSize(256 * 1024);
        auto* timer = new QTimer(reply);
        timer->setSingleShot(true);
        QObject::connect(timer, &QTimer::timeout, reply, [reply, state] {
            state->timedOut = true;
            reply->abort();
        });
        auto refuseIfTooLarge = [reply, state, maxBytes](qint64 size) {
            if (size > maxBytes && !state->oversized) {
                state->oversized = true;
                state->body.clear();
                reply->abort();
            }
        };
        QObject::connect(reply, &QNetworkReply::metaDataChanged, reply, [reply, refuseIfTooLarge] {
            const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
            if (length.isValid()) refuseIfTooLarge(length.toLongLong());
        });
        QObject::connect(reply, &QIODevice::readyRead, reply, [reply, state, refuseIfTooLarge] {
            if (state->oversized) return;
            state->body += reply->readAll();
            refuseIfTooLarge(state->body.size());
        });
        QObject::connect(reply, &QNetworkReply::finished, reply, [reply, state, timer, done] {
            timer->stop();
            if (!state->oversized && reply->isOpen()) state->body += reply->readAll();
            state->error = reply->error();
            state->errorString = reply->errorString();
            state->status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            state->reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
            state->location = reply->header(QNetworkRequest::LocationHeader).toUrl().toString(
                QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
            done->set_value(std::move(*state));
            reply->deleteLater();
        });
        timer->start(static_cast<int>(std::min<int64_t>(timeoutMs, std::numeric_limits<int>::max())));
    }

    void abortCurrent() {
        if (m_current) m_current->abort();
    }

private:
    QNetworkAccessManager* m_nam = nullptr;
    QPointer<QNetworkReply> m_current;
};

std::string seconds(int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms) / 1000.0);
    return buf;
}

std::string megabytes(int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g MB", static_cast<double>(bytes) / 1e6);
    return buf;
}

bool retryable(const Attempt& a) {
    if (a.oversized) return false;
    if (a.timedOut) return true;
    if (a.status >= 500 || a.status == 429 || a.status == 408) return true;
    if (a.status > 0) return false;
    switch (a.error) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::TimeoutError:
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::UnknownNetworkError:
    case QNetworkReply::InternalServerError:
    case QNetworkReply::ServiceUnavailableError:
    case QNetworkReply::UnknownServerError: return true;
    default: return false;
    }
}

}  // namespace

struct RewardServerClient::Impl {
    QUrl url;
    std::string shown;
    RewardServerOptions options;
    QByteArray token;  // "Bearer ..." header value; empty: none
    QSslConfiguration tls;
    bool customTls = false;
    QThread thread;
    Transport* transport = nullptr;
    std::atomic<int64_t> requests{0};
    std::atomic<const std::atomic_bool*> cancel{nullptr};

    bool cancelled() const {
        const std::atomic_bool* c = cancel.load();
        return c && c->load();
    }

    // Waits `ms`, or less when the cancel flag rises.
    void pause(int64_t ms) const {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (!cancelled() && std::chrono::steady_clock::now() < end) {
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                std::chrono::milliseconds(50), end - std::chrono::steady_clock::now()));
        }
    }

    // The body's beginning for an error message: printable, short, and
    // without the token should a server echo the request's headers.
    std::string excerpt(const QByteArray& body) const {
        QString s = QString::fromUtf8(body.left(300)).simplified();
        const QByteArray bare = token.mid(7);  // without "Bearer "
        if (!bare.isEmpty()) s.replace(QString::fromUtf8(bare), QStringLiteral("***"));
        if (s.size() > 200) s = s.left(200) + QStringLiteral("...");
        return s.toStdString();
    }

    [[noreturn]] void fail(RewardServerFault fault, int attempts, const std::string& what) const {
        std::string m = "reward server " + shown + ": " + what;
        if (attempts > 1) m += " (" + std::to_string(attempts) + " attempts)";
        throw RewardServerError(fault, attempts, m);
    }

    Attempt send(const QByteArray& body) {
        QNetworkRequest req(url);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        req.setRawHeader("Accept", "application/json");
        if (!token.isEmpty()) req.setRawHeader("Authorization", token);
        // A redirect is reported, not followed: the token must not travel to another address.
        req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
        if (customTls) req.setSslConfiguration(tls);
        auto done = std::make_shared<std::promise<Attempt>>();
        std::future<Attempt> result = done->get_future();
        ++requests;
        Transport* t = transport;
        const int64_t timeoutMs = options.timeoutMs, cap = options.maxBodyBytes;
        QMetaObject::invokeMethod(
            t, [t, req, body, timeoutMs, cap, done] { t->post(req, body, timeoutMs, cap, done); }, Qt::QueuedConnection);
        // The transport's timer bounds the wait; a stop request cuts it short.
        bool aborted = false;
        while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
            if (!aborted && cancelled()) {
                QMetaObject::invokeMethod(t, [t] { t->abortCurrent(); }, Qt::QueuedConnection);
                aborted = true;
            }
        }
        return result.get();
    }

    // Throws the error an attempt ended with; returns when it has an answer to read.
    void throwIfFailed(const Attempt& a, int attempts) const {
        if (a.oversized) {
            fail(RewardServerFault::Oversized, attempts,
                 "the reply is larger than " + megabytes(options.maxBodyBytes) + " and was refused unread");
        }
        if (a.timedOut) {
            fail(RewardServerFault::Timeout, attempts, "timeout: no complete reply within " + seconds(options.timeoutMs));
        }
        if (a.status >= 300 && a.status < 400) {
            fail(RewardServerFault::HttpStatus, attempts,
                 "HTTP " + std::to_string(a.status) + " redirect to " + a.location.toStdString() +
                     " (redirects are not followed; set reward_server to the final address)");
        }
        if (a.status >= 400) {
            std::string m = "HTTP " + std::to_string(a.status);
            if (!a.reason.isEmpty()) m += " " + a.reason.toStdString();
            if (a.status == 401 || a.status == 403) {
                m += token.isEmpty() ? std::string(" (no token was sent: set ") + kRewardServerTokenVariable + ")"
                                     : std::string(" (check the token in ") + kRewardServerTokenVariable + ")";
            }
            const std::string said = excerpt(a.body);
            if (!said.empty()) m += ": " + said;
            fail(RewardServerFault::HttpStatus, attempts, m);
        }
        if (a.error == QNetworkReply::NoError) return;
        if (a.error == QNetworkReply::ConnectionRefusedError) {
            fail(RewardServerFault::Refused, attempts, "connection refused (is the server running at this address?)");
        }
        if (a.error == QNetworkReply::SslHandshakeFailedError) {
            fail(RewardServerFault::Tls, attempts,
                 "TLS handshake failed: " + a.errorString.toStdString() +
                     (options.caFile.empty() ? std::string(" (a private CA's certificate can be given in ") +
                                                   kRewardServerCaFileVariable + ")"
                                             : std::string()));
        }
        if (a.error == QNetworkReply::TimeoutError) {
            fail(RewardServerFault::Timeout, attempts, "timeout: " + a.errorString.toStdString());
        }
        fail(RewardServerFault::Network, attempts, a.errorString.toStdString());
    }

    std::vector<double> parse(const QByteArray& body, size_t expected, int attempts) const {
        QJsonParseError err{};
        const QJsonDocument doc = QJsonDocument::fromJson(body, &err);
        if (err.error != QJsonParseError::NoError) {
            // Python's json writes NaN and Infinity as bare words, which JSON
            // does not have: say what the server meant rather than "not JSON".
            static const QRegularExpression nonFinite(QStringLiteral("[\\[,:]\\s*-?(NaN|Infinity)\\b"));
            if (nonFinite.match(QString::fromUtf8(body)).hasMatch()) {
                fail(RewardServerFault::NonFinite, attempts, "the rewards include NaN or Infinity (not finite numbers)");
            }
            fail(RewardServerFault::NotJson, attempts,
                 "the reply is not JSON (" + err.errorString().toStdString() + " at byte " + std::to_string(err.offset) +
                     "): " + excerpt(body));
        }
        if (!doc.isObject()) fail(RewardServerFault::NotJson, attempts, "the reply is JSON but not an object: " + excerpt(body));
        const QJsonValue rewards = doc.object().value(QStringLiteral("rewards"));
        if (!rewards.isArray()) {
            fail(RewardServerFault::MissingRewards, attempts,
                 "the reply has no \"rewards\" list (a /get_reward server answers {\"rewards\": [...]}): " + excerpt(body));
        }
        const QJsonArray list = rewards.toArray();
        if (static_cast<size_t>(list.size()) != expected) {
            fail(RewardServerFault::WrongCount, attempts,
                 std::to_string(list.size()) + " rewards for " + std::to_string(expected) + " texts sent");
        }
        std::vector<double> out;
        out.reserve(expected);
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QJsonValue v = list.at(i);
            if (!v.isDouble()) {
                fail(RewardServerFault::NonFinite, attempts,
                     "reward " + std::to_string(i) + " is " + (v.isNull() ? "null (a NaN written as null?)" : "not a number"));
            }
            const double x = v.toDouble();
            if (!std::isfinite(x)) fail(RewardServerFault::NonFinite, attempts, "reward " + std::to_string(i) + " is not finite");
            out.push_back(x);
        }
        return out;
    }
};

RewardServerClient::RewardServerClient(const std::string& url, RewardServerOptions options)
    : d(std::make_unique<Impl>()) {
    if (const std::string problem = rewardServerUrlProblem(url); !problem.empty()) throw std::invalid_argument(problem);
    d->url = QUrl(QString::fromStdString(url), QUrl::StrictMode);
    if (d->url.path().isEmpty() || d->url.path() == QLatin1String("/")) d->url.setPath(QStringLiteral("/get_reward"));
    d->shown = rewardServerDisplayUrl(url);
    d->options = std::move(options);
    d->options.attempts = std::max(1, d->options.attempts);
    if (const char* t = std::getenv(kRewardServerTokenVariable); t && *t) d->token = QByteArray("Bearer ") + t;
    if (d->options.caFile.empty()) {
        if (const char* ca = std::getenv(kRewardServerCaFileVariable); ca && *ca) d->options.caFile = ca;
    }
    if (!d->options.caFile.empty()) {
        const QList<QSslCertificate> certs = QSslCertificate::fromPath(QString::fromStdString(d->options.caFile));
        if (certs.isEmpty()) {
            throw std::invalid_argument("reward server " + d->shown + ": no PEM certificate in " + d->options.caFile);
        }
        d->tls = QSslConfiguration::defaultConfiguration();
        d->tls.addCaCertificates(certs);
        d->customTls = true;
    }
    d->transport = new Transport;
    d->transport->moveToThread(&d->thread);
    d->thread.setObjectName(QStringLiteral("reward server client"));
    d->thread.start();
}

RewardServerClient::~RewardServerClient() {
    Transport* t = d->transport;
    QMetaObject::invokeMethod(t, [t] { delete t; }, Qt::BlockingQueuedConnection);
    d->thread.quit();
    d->thread.wait();
}

const std::string& RewardServerClient::displayUrl() const { return d->shown; }

void RewardServerClient::setCancelFlag(const std::atomic_bool* cancel) { d->cancel = cancel; }

int64_t RewardServerClient::requestsSent() const { return d->requests.load(); }

std::vector<double> RewardServerClient::score(const std::vector<std::string>& prompts,
                                              const std::vector<std::string>& responses) {
    if (prompts.size() != responses.size()) throw std::logic_error("RewardServerClient::score: prompts and responses differ in count");
    if (prompts.empty()) return {};
    QJsonArray query, promptList, labels;
    for (size_t i = 0; i < prompts.size(); ++i) {
        query.append(QString::fromStdString(prompts[i] + responses[i]));
        promptList.append(QString::fromStdString(prompts[i]));
        labels.append(QString());
    }
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("query"), query},
                                                      {QStringLiteral("prompts"), promptList},
                                                      {QStringLiteral("labels"), labels}})
                                .toJson(QJsonDocument::Compact);
    int64_t wait = d->options.backoffMs;
    for (int attempt = 1;; ++attempt) {
        if (d->cancelled()) d->fail(RewardServerFault::Cancelled, attempt - 1, "stopped while waiting for the reply");
        const Attempt a = d->send(body);
        if (d->cancelled()) d->fail(RewardServerFault::Cancelled, attempt, "stopped while waiting for the reply");
        if (a.error != QNetworkReply::NoError || a.oversized || a.timedOut || a.status >= 300) {
            if (attempt < d->options.attempts && retryable(a)) {
                // A plain wait on the training thread: no events are processed meanwhile (see above).
                d->pause(wait);
                wait = std::min(wait * 2, d->options.maxBackoffMs);
                continue;
            }
            d->throwIfFailed(a, attempt);
        }
        return d->parse(a.body, prompts.size(), attempt);
    }
}

}  // namespace preflab
