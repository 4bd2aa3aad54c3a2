// The reward server client, judge and run against a server this test starts
// on 127.0.0.1: the request's shape and token, each fault's message (naming
// the server, never the token), retries with backoff, TLS with a certificate
// made at test time, and online runs judged by the server, one of which the
// server breaks mid-run without losing what was stored.
//
// Why the server is hand-written: the client must be met by every misbehaviour
// (never answering, a body over the cap, NaN, a wrong count), which a real
// HTTP server library would not produce; QTcpServer with a minimal HTTP/1.1
// responder on its own thread (the client blocks its caller) does.
#include "app/session/training_session.h"
#include "core/judges/reward_server_judge.h"
#include "core/values/reward_server_url.h"
#include "core/values/run_config.h"
#include "storage/run_store.h"
#include "support/loop_runner.h"
#include "support/session_fixture.h"
#include "support/test_main.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <atomic>
#include <memory>

using namespace preflab;
using namespace preflab::test;

namespace {

constexpr char kToken[] = "tok-SECRET-4f1c9e";

enum class Behaviour { Ok, Silent, FailFirst503, WrongCount, NaN, NotJson, NoRewards, OversizedLength, OversizedStream,
                       Unauthorized, BadRequest, Redirect };

// The reward the server gives a text: its length in hundreds of characters.
double rewardOf(const QString& query) { return query.size() / 100.0; }

// A minimal HTTP/1.1 server on its own thread. Records every request; answers
// by `behaviour`; after `failAfter` good answers (-1: never) answers with a
// wrong count of rewards, as a server that breaks mid-run.
class LoopbackServer {
public:
    std::atomic<Behaviour> behaviour{Behaviour::Ok};
    std::atomic<int> failFirst{0};
    std::atomic<int> failAfter{-1};
    std::atomic<int> requests{0};
    std::atomic<int> answeredTexts{0};  // texts given valid rewards

    explicit LoopbackServer(const QSslConfiguration* tls = nullptr) {
        m_anchor.moveToThread(&m_thread);
        m_thread.start();
        QMetaObject::invokeMethod(
            &m_anchor,
            [this, tls] {
                if (tls) {
                    auto* s = new QSslServer;
                    s->setSslConfiguration(*tls);
                    m_server = s;
                } else {
                    m_server = new QTcpServer;
                }
                QObject::connect(m_server, &QTcpServer::pendingConnectionAvailable, m_server, [this] {
                    while (QTcpSocket* socket = m_server->nextPendingConnection()) serve(socket);
                });
                if (!m_server->listen(QHostAddress::LocalHost)) qFatal("the loopback server cannot listen");
                m_port = m_server->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }
    ~LoopbackServer() {
        QMetaObject::invokeMethod(&m_anchor, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    QString url(const char* scheme = "http") const {
        return QStringLiteral("%1://127.0.0.1:%2/get_reward").arg(QLatin1String(scheme)).arg(m_port);
    }
    QJsonObject lastRequest() const {
        QMutexLocker lock(&m_mutex);
        return m_lastBody;
    }
    QByteArray lastAuthorization() const {
        QMutexLocker lock(&m_mutex);
        return m_lastAuthorization;
    }
    QByteArray lastPath() const {
        QMutexLocker lock(&m_mutex);
        return m_lastPath;
    }

private:
    struct Anchor : QObject {};  // an object of the server's thread, to run code there

    void serve(QTcpSocket* socket) {
        auto buffer = std::make_shared<QByteArray>();
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QObject::connect(socket, &QIODevice::readyRead, socket, [this, socket, buffer] {
            *buffer += socket->readAll();
            const qsizetype headerEnd = buffer->indexOf("\r\n\r\n");
            if (headerEnd < 0) return;
            const QList<QByteArray> lines = buffer->left(headerEnd).split('\n');
            qsizetype length = 0;
            QByteArray authorization;
            for (const QByteArray& raw : lines) {
                const QByteArray line = raw.trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon < 0) continue;
                const QByteArray name = line.left(colon).trimmed().toLower();
                if (name == "content-length") length = line.mid(colon + 1).trimmed().toLongLong();
                if (name == "authorization") authorization = line.mid(colon + 1).trimmed();
            }
            if (buffer->size() < headerEnd + 4 + length) return;
            const QByteArray body = buffer->mid(headerEnd + 4, length);
            const QJsonObject request = QJsonDocument::fromJson(body).object();
            {
                QMutexLocker lock(&m_mutex);
                m_lastBody = request;
                m_lastAuthorization = authorization;
                m_lastPath = lines.value(0).split(' ').value(1);
            }
            buffer->clear();
            respond(socket, request, authorization, ++requests);
        });
    }

    static void reply(QTcpSocket* socket, int status, const char* reason, const QByteArray& body) {
        socket->write("HTTP/1.1 " + QByteArray::number(status) + " " + reason + "\r\nContent-Type: application/json\r\n" +
                      "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        socket->disconnectFromHost();
    }

    void respond(QTcpSocket* socket, const QJsonObject& request, const QByteArray& authorization, int n) {
        const QJsonArray queries = request.value(QStringLiteral("query")).toArray();
        QJsonArray rewards;
        for (const QJsonValue& q : queries) rewards.append(rewardOf(q.toString()));
        const auto json = [](const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); };
        Behaviour b = behaviour;
        if (b == Behaviour::FailFirst503 && n > failFirst) b = Behaviour::Ok;
        if (b == Behaviour::Ok && failAfter >= 0 && n > failAfter) b = Behaviour::WrongCount;
        switch (b) {
        case Behaviour::Ok:
            answeredTexts += static_cast<int>(queries.size());
            // As OpenRLHF's serve_rm.py answers.
            return reply(socket, 200, "OK",
                         json({{"rewards", rewards}, {"scores", rewards}, {"extra_logs", QJsonObject{{"dummy_scores", rewards}}}}));
        case Behaviour::Silent: return;  // holds the connection and never answers
        case Behaviour::FailFirst503: return reply(socket, 503, "Service Unavailable", "{\"detail\": \"warming up\"}");
        case Behaviour::WrongCount:
            rewards.removeLast();
            return reply(socket, 200, "OK", json({{"rewards", rewards}}));
        case Behaviour::NaN: {
            QByteArray body = "{\"rewards\": [NaN";
            for (qsizetype i = 1; i < queries.size(); ++i) body += ", 0.5";
            return reply(socket, 200, "OK", body + "]}");
        }
        case Behaviour::NotJson: return reply(socket, 200, "OK", "<html><body>502 Bad Gateway</body></html>");
        case Behaviour::NoRewards: return reply(socket, 200, "OK", json({{"scores", rewards}}));
        case Behaviour::OversizedLength:
            // Announces 11 MB and sends a little: the client refuses at the header.
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11000000\r\n\r\n{\"rewards\": [");
            return;
        case Behaviour::OversizedStream: {
            // No length: 11 MB streamed until the connection closes.
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"rewards\": [");
            const QByteArray chunk = QByteArray("0.25, ").repeated(100'000);
            for (int i = 0; i < 19; ++i) socket->write(chunk);
            socket->write("0.25]}");
            socket->disconnectFromHost();
            return;
        }
        case Behaviour::Unauthorized:
            // Echoes the header it got, as a careless server might: the client must not repeat it.
            return reply(socket, 401, "Unauthorized", "{\"detail\": \"bad token: " + authorization + "\"}");
        case Behaviour::BadRequest: return reply(socket, 400, "Bad Request", "{\"detail\": \"query missing\"}");
        case Behaviour::Redirect:
            socket->write("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://ada:pw@elsewhere.example:81/get_reward?key=k\r\n"
                          "Content-Length: 0\r\nConnection: close\r\n\r\n");
            socket->disconnectFromHost();
            return;
        }
    }

    QThread m_thread;
    Anchor m_anchor;
    QTcpServer* m_server = nullptr;
    quint16 m_port = 0;
    mutable QMutex m_mutex;
    QJsonObject m_lastBody;
    QByteArray m_lastAuthorization, m_lastPath;
};

// Options that keep the fault tests short: a 3 s timeout (ample for a loopback answer on a busy machine), 3 tries, 20 ms first wait.
RewardServerOptions quick() {
    RewardServerOptions o;
    o.timeoutMs = 3000;
    o.attempts = 3;
    o.backoffMs = 20;
    return o;
}

std::unique_ptr<LoopbackServer> startServer(const QSslConfiguration* tls = nullptr) {
    return std::unique_ptr<LoopbackServer>(new LoopbackServer(tls));
}

}  // namespace

Q_DECLARE_METATYPE(Behaviour)
Q_DECLARE_METATYPE(RewardServerFault)

class TestRewardServer : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_cert, m_key;

private Q_SLOTS:
    void initTestCase() {
        registerRunValueMetaTypes();
        qputenv(kRewardServerTokenVariable, kToken);
        qunsetenv(kRewardServerCaFileVariable);
        // A self-signed certificate for 127.0.0.1, made now (openssl is in packaging/setup-debian.sh).
        m_cert = m_dir.path() + "/cert.pem";
        m_key = m_dir.path() + "/key.pem";
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", m_key,
                       "-out", m_cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
        QVERIFY2(openssl.waitForFinished(30000) && openssl.exitCode() == 0, openssl.readAllStandardError().constData());
    }

    // The request has OpenRLHF's shape and the token; the rewards come back in order.
    void scoresOneRequestInOpenRlhfShape() {
        auto server = startServer();
        RewardServerClient client(server->url().toStdString(), quick());
        const std::vector<double> r = client.score({"Q1 ", "Q2 longer "}, {"short", "a longer response"});
        QCOMPARE(r.size(), size_t(2));
        QCOMPARE(r[0], rewardOf("Q1 short"));
        QCOMPARE(r[1], rewardOf("Q2 longer a longer response"));
        QCOMPARE(server->requests.load(), 1);
        const QJsonObject req = server->lastRequest();
        QCOMPARE(req.value("query").toArray(), (QJsonArray{"Q1 short", "Q2 longer a longer response"}));
        QCOMPARE(req.value("prompts").toArray(), (QJsonArray{"Q1 ", "Q2 longer "}));
        QCOMPARE(req.value("labels").toArray(), (QJsonArray{"", ""}));
        QCOMPARE(server->lastAuthorization(), QByteArray("Bearer ") + kToken);
        QCOMPARE(server->lastPath(), QByteArray("/get_reward"));
        // An address without a path goes to /get_reward.
        RewardServerClient bare(server->url().replace("/get_reward", "").toStdString(), quick());
        bare.score({"p"}, {"r"});
        QCOMPARE(server->lastPath(), QByteArray("/get_reward"));
    }

    void faults_data() {
        QTest::addColumn<Behaviour>("behaviour");
        QTest::addColumn<RewardServerFault>("fault");
        QTest::addColumn<QString>("says");
        QTest::addColumn<int>("requests");  // tries the client made
        QTest::newRow("slow") << Behaviour::Silent << RewardServerFault::Timeout << "timeout: no complete reply within 3 s (3 attempts)" << 3;
        QTest::newRow("503 every time") << Behaviour::FailFirst503 << RewardServerFault::HttpStatus
                                        << "HTTP 503 Service Unavailable: {\"detail\": \"warming up\"} (3 attempts)" << 3;
        QTest::newRow("wrong count") << Behaviour::WrongCount << RewardServerFault::WrongCount << "2 rewards for 3 texts sent" << 1;
        QTest::newRow("NaN") << Behaviour::NaN << RewardServerFault::NonFinite << "the rewards include NaN or Infinity" << 1;
        QTest::newRow("not JSON") << Behaviour::NotJson << RewardServerFault::NotJson << "the reply is not JSON" << 1;
        QTest::newRow("no rewards") << Behaviour::NoRewards << RewardServerFault::MissingRewards << "no \"rewards\" list" << 1;
        QTest::newRow("11 MB announced") << Behaviour::OversizedLength << RewardServerFault::Oversized
                                         << "the reply is larger than 10 MB and was refused unread" << 1;
        QTest::newRow("11 MB streamed") << Behaviour::OversizedStream << RewardServerFault::Oversized
                                        << "the reply is larger than 10 MB and was refused unread" << 1;
        QTest::newRow("401") << Behaviour::Unauthorized << RewardServerFault::HttpStatus
                             << "HTTP 401 Unauthorized (check the token in PREFLAB_REWARD_SERVER_TOKEN)" << 1;
        QTest::newRow("400") << Behaviour::BadRequest << RewardServerFault::HttpStatus << "HTTP 400 Bad Request" << 1;
        // Not followed: the token would travel to the other address (shown without its credentials or query).
        QTest::newRow("redirect") << Behaviour::Redirect << RewardServerFault::HttpStatus
                                  << "HTTP 307 redirect to http://elsewhere.example:81/get_reward (redirects are not followed; "
                                     "set reward_server to the final address)" << 1;
    }

    // Each misbehaviour: its fault, a message that names the server and says
    // what went wrong, never the token; retried only where trying again can help.
    void faults() {
        QFETCH(Behaviour, behaviour);
        QFETCH(RewardServerFault, fault);
        QFETCH(QString, says);
        QFETCH(int, requests);
        auto server = startServer();
        server->behaviour = behaviour;
        server->failFirst = 1000;
        RewardServerClient client(server->url().toStdString(), quick());
        QElapsedTimer clock;
        clock.start();
        try {
            client.score({"a", "b", "c"}, {"1", "2", "3"});
            QFAIL("no error");
        } catch (const RewardServerError& e) {
            const QString m = QString::fromUtf8(e.what());
            qInfo("%s -> %s (%lld ms)", QTest::currentDataTag(), e.what(), static_cast<long long>(clock.elapsed()));
            QCOMPARE(e.fault(), fault);
            QVERIFY2(m.startsWith("reward server " + server->url() + ": "), qPrintable(m));
            QVERIFY2(m.contains(says), qPrintable(m));
            QVERIFY2(!m.contains(kToken), qPrintable(m));
            QCOMPARE(e.attempts(), requests);
        }
        QCOMPARE(client.requestsSent(), int64_t(requests));
        QTRY_COMPARE(server->requests.load(), requests);
    }

    void refusedIsRetriedThenNamed() {
        quint16 port = 0;
        {
            QTcpServer closed;
            QVERIFY(closed.listen(QHostAddress::LocalHost));
            port = closed.serverPort();
        }
        const QString url = QStringLiteral("http://127.0.0.1:%1/get_reward").arg(port);
        RewardServerClient client(url.toStdString(), quick());
        try {
            client.score({"a"}, {"b"});
            QFAIL("no error");
        } catch (const RewardServerError& e) {
            qInfo("refused -> %s", e.what());
            QCOMPARE(e.fault(), RewardServerFault::Refused);
            QCOMPARE(QString::fromUtf8(e.what()),
                     "reward server " + url + ": connection refused (is the server running at this address?) (3 attempts)");
        }
        QCOMPARE(client.requestsSent(), int64_t(3));
    }

    // 503 twice, then an answer: the third try succeeds after waits of 20 and 40 ms.
    void serviceUnavailableIsRetriedWithBackoff() {
        auto server = startServer();
        server->behaviour = Behaviour::FailFirst503;
        server->failFirst = 2;
        RewardServerClient client(server->url().toStdString(), quick());
        QElapsedTimer clock;
        clock.start();
        const std::vector<double> r = client.score({"p"}, {"response"});
        QCOMPARE(r, std::vector<double>{rewardOf("presponse")});
        QCOMPARE(server->requests.load(), 3);
        QCOMPARE(client.requestsSent(), int64_t(3));
        QVERIFY(clock.elapsed() >= 60);  // the two backoff waits
    }

    void tls() {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        QFile certFile(m_cert), keyFile(m_key);
        QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
        tls.setLocalCertificate(QSslCertificate(&certFile));
        tls.setPrivateKey(QSslKey(&keyFile, QSsl::Ec));
        QVERIFY(!tls.localCertificate().isNull() && !tls.privateKey().isNull());
        auto server = startServer(&tls);
        const std::string url = server->url("https").toStdString();
        // Trusting the certificate: the answer comes over TLS.
        RewardServerOptions trusting = quick();
        trusting.caFile = m_cert.toStdString();
        RewardServerClient client(url, trusting);
        QCOMPARE(client.score({"p"}, {"r"}), std::vector<double>{rewardOf("pr")});
        QCOMPARE(server->lastAuthorization(), QByteArray("Bearer ") + kToken);
        // Not trusting it: a TLS error naming the server, not retried.
        RewardServerClient stranger(url, quick());
        try {
            stranger.score({"p"}, {"r"});
            QFAIL("no error");
        } catch (const RewardServerError& e) {
            qInfo("untrusted certificate -> %s", e.what());
            QCOMPARE(e.fault(), RewardServerFault::Tls);
            QVERIFY(QString::fromUtf8(e.what()).startsWith("reward server " + server->url("https") + ": TLS handshake failed"));
        }
        QCOMPARE(stranger.requestsSent(), int64_t(1));
    }

    // The judge asks once per round and labels by the higher score.
    void judgeLabelsARoundInOneRequest() {
        auto server = startServer();
        RewardServerJudge judge(server->url().toStdString(), quick());
        judge.submit({{0, "p ", "short", "a much longer one"}, {1, "p ", "a much longer one", "short"}, {2, "p ", "same", "same"}});
        QCOMPARE(server->requests.load(), 1);
        QCOMPARE(server->lastRequest().value("query").toArray().size(), 6);
        const std::vector<Judgement> j = judge.collect();
        QCOMPARE(j.size(), size_t(3));
        QVERIFY(j[0].choice == Choice::B);
        QVERIFY(j[1].choice == Choice::A);
        QVERIFY(j[2].choice == Choice::Tie);
        QVERIFY(j[0].source == LabelSource::RewardModel);
        // A failed round records nothing.
        server->behaviour = Behaviour::WrongCount;
        QVERIFY_THROWS_EXCEPTION(RewardServerError, judge.submit({{3, "p", "a", "b"}}));
        QVERIFY(judge.collect().empty());
    }

    // preflab score --server: the score of one response, and a fault's message on stderr.
    void scoreCommandAsksTheServer() {
        auto server = startServer();
        QProcess cli;
        cli.start(QStringLiteral(PREFLAB_CLI), {"score", "--server", server->url(), "--prompt", "Hello ", "--response",
                                                "world", "--json"});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        QCOMPARE(QJsonDocument::fromJson(cli.readAllStandardOutput()).object().value("score").toDouble(),
                 rewardOf("Hello world"));
        QCOMPARE(server->lastAuthorization(), QByteArray("Bearer ") + kToken);
        server->behaviour = Behaviour::Unauthorized;
        cli.start(QStringLiteral(PREFLAB_CLI), {"score", "--server", server->url(), "--prompt", "p", "--response", "r"});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 1);
        const QString err = QString::fromUtf8(cli.readAllStandardError());
        QVERIFY2(err.contains("preflab score: reward server " + server->url() + ": HTTP 401 Unauthorized"), qPrintable(err));
        QVERIFY(!err.contains(kToken));
    }

    void config_data() {
        QTest::addColumn<QString>("judge");
        QTest::addColumn<QString>("server");
        QTest::addColumn<QString>("rewardModel");
        QTest::addColumn<QString>("error");  // "" = valid
        QTest::newRow("valid") << "reward_server" << "https://rm.example.org:8443/get_reward" << "" << "";
        QTest::newRow("empty") << "reward_server" << "" << "" << "judge = reward_server needs the server's address";
        QTest::newRow("not http") << "reward_server" << "ftp://rm.example.org/x" << ""
                                  << "reward_server 'ftp://rm.example.org/x' must start with http:// or https://";
        QTest::newRow("credentials") << "reward_server" << "https://ada:hunter2@rm.example.org/get_reward" << ""
                                     << "reward_server 'https://rm.example.org/get_reward' holds a user name or password";
        QTest::newRow("both rewards") << "task" << "http://127.0.0.1:5000" << "rm.pt" << "both name the run's reward";
    }

    void config() {
        QFETCH(QString, judge);
        QFETCH(QString, server);
        QFETCH(QString, rewardModel);
        QFETCH(QString, error);
        RunConfig c;
        c.judge = judge.toStdString();
        c.rewardServer = server.toStdString();
        c.rewardModel = rewardModel.toStdString();
        QStringList errors;
        for (const std::string& e : validateRunConfig(c)) errors << QString::fromStdString(e);
        if (error.isEmpty()) {
            QVERIFY2(errors.isEmpty(), qPrintable(errors.join("; ")));
            return;
        }
        QVERIFY2(errors.join("; ").contains(error), qPrintable(errors.join("; ")));
        QVERIFY(!errors.join("; ").contains("hunter2"));
        // The CLI flag comes from the same table.
        QVERIFY(setRunConfigValue(c, "reward_server", "http://127.0.0.1:1/get_reward").empty());
        QCOMPARE(c.rewardServer, std::string("http://127.0.0.1:1/get_reward"));
    }

    void displayUrlHasNoCredentials() {
        QCOMPARE(rewardServerDisplayUrl("https://ada:hunter2@rm.example.org:8443/x?key=abc#f"),
                 std::string("https://rm.example.org:8443/x"));
        QCOMPARE(rewardServerDisplayUrl("http://127.0.0.1:5000"), std::string("http://127.0.0.1:5000/get_reward"));
        QVERIFY(rewardServerDisplayUrl("http://ada:hun ter2@[bad").find("hun") == std::string::npos);
    }

    // An online DPO run on the tiny model judged by the server: it trains,
    // every pair is labelled by the server, and the stored run holds the
    // address, never the token.
    void onlineRunJudgedByTheServer() {
        auto server = startServer();
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "reward_server";
        setup.config.rewardServer = server->url().toStdString();
        setup.config.steps = 3;
        setup.config.heldOutPairs = 4;  // its labels come from the server too, at the first evaluation
        setup.config.evalEvery = 3;
        setup.config.evalSamples = 4;
        QVERIFY(validateRunConfig(setup.config).empty());
        TrainingSession session(setup);
        RunEvents events(session.worker(), this);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(events.finished, 120000);
        session.wait();
        QVERIFY2(events.failures.isEmpty(), qPrintable(events.failures.join("; ")));
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].run.status, std::string("finished"));
        QCOMPARE(runs[0].run.lastStep, int64_t(3));
        QVERIFY(runs[0].labels >= 6);
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM labels WHERE source <> 'reward_model'"), int64_t(0));
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM metrics WHERE name = 'loss'"), int64_t(3));
        // The held-out set (4 pairs, 8 texts), every round's pairs and, at each
        // evaluation, the win rate's pairs (the policy's response and the
        // reference's to each prompt) went to the server.
        const int64_t winRatePairs =
            queryInt64(setup.databasePath, "SELECT CAST(SUM(value) AS INTEGER) FROM metrics WHERE name = 'eval/win_rate_prompts'");
        QVERIFY(winRatePairs >= 4);
        QCOMPARE(int64_t(server->answeredTexts.load()), 8 + 2 * runs[0].labels + 2 * winRatePairs);
        // (Pairs the server scores equal, as responses of equal length here, are left out of the set.)
        QVERIFY(queryInt64(setup.databasePath, "SELECT count(*) FROM metrics WHERE name = 'eval/rewards/accuracies'") >= 1);
        QVERIFY(runs[0].run.configJson.find(server->url().toStdString()) != std::string::npos);
        QFile db(QString::fromStdString(setup.databasePath));
        QVERIFY(db.open(QIODevice::ReadOnly));
        QVERIFY(!db.readAll().contains(kToken));
        qInfo("3 steps judged by the server: %d requests, %lld labels", server->requests.load(),
              static_cast<long long>(runs[0].labels));
    }

    // A stop while the server keeps the run waiting (its timeout is two
    // minutes) ends the run at once, as stopped, not failed: while a round's
    // pairs wait for their labels, and while the evaluation's win rate waits
    // (the run's judge is the win rate's judge; the evaluation before the
    // first step sends the first request, before any pair is generated).
    void stopWhileWaitingForTheServer_data() {
        QTest::addColumn<bool>("winRate");
        QTest::newRow("labelling a round") << false;
        QTest::newRow("the evaluation's win rate") << true;
    }
    void stopWhileWaitingForTheServer() {
        QFETCH(bool, winRate);
        auto server = startServer();
        server->behaviour = Behaviour::Silent;
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "reward_server";
        setup.config.rewardServer = server->url().toStdString();
        setup.config.heldOutPairs = 0;
        if (winRate) {
            setup.config.evalEvery = 1;
            setup.config.evalSamples = 4;
            setup.config.winRatePrompts = 4;
        }
        TrainingSession session(setup);
        RunEvents events(session.worker(), this);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(server->requests.load() >= 1, 60000);
        QElapsedTimer clock;
        clock.start();
        session.stop();
        QTRY_VERIFY_WITH_TIMEOUT(events.finished, 10000);
        session.wait();
        qInfo("stopped %lld ms after the request", static_cast<long long>(clock.elapsed()));
        QVERIFY2(events.failures.isEmpty(), qPrintable(events.failures.join("; ")));
        QCOMPARE(events.states.last(), RunState::Stopped);
        const auto run = RunStore(*Database::open(setup.databasePath)).list()[0].run;
        QCOMPARE(run.status, std::string("stopped"));
        if (winRate) QCOMPARE(run.lastStep, int64_t(0));
    }

    // PPO's reward from the server: each step's rollout batch is one request.
    void ppoTakesItsRewardFromTheServer() {
        auto server = startServer();
        QTemporaryDir dir;
        RunConfig c;
        c.algorithm = "ppo";
        c.rewardServer = server->url().toStdString();
        c.batchSize = 4;
        c.heldOutPairs = 0;
        QVERIFY(validateRunConfig(c).empty());
        const Collector m = runLoop(dir, c, 2);
        QCOMPARE(m.series.at("loss").size(), size_t(2));
        QCOMPARE(server->requests.load(), 2);
        QCOMPARE(server->answeredTexts.load(), 8);
    }

    // The server breaks after four good answers: the run stops with the
    // server's error, and the labels and metrics of the steps before stay stored.
    void serverFailingMidRunStopsTheRunAndKeepsWhatWasStored() {
        auto server = startServer();
        server->failAfter = 4;
        QTemporaryDir dir;
        SessionSetup setup = tinySetup(dir, writeTinyModel(dir.path()));
        setup.config.judge = "reward_server";
        setup.config.rewardServer = server->url().toStdString();
        setup.config.heldOutPairs = 0;
        TrainingSession session(setup);
        RunEvents events(session.worker(), this);
        session.start();
        QTRY_VERIFY_WITH_TIMEOUT(events.finished, 120000);
        session.wait();
        QCOMPARE(events.failures.size(), 1);
        const QString error = events.failures.first();
        qInfo("mid-run failure -> %s", qPrintable(error));
        QVERIFY2(error.startsWith("reward server " + server->url() + ": ") && error.contains("rewards for"), qPrintable(error));
        QVERIFY(!error.contains(kToken));
        QCOMPARE(events.states.last(), RunState::Failed);
        const auto runs = RunStore(*Database::open(setup.databasePath)).list();
        QCOMPARE(runs[0].run.status, std::string("failed"));
        QCOMPARE(QString::fromStdString(runs[0].run.message), error);
        QVERIFY(runs[0].run.lastStep >= 1);
        // Every pair the server answered for is labelled and stored; the steps trained before have their loss.
        QCOMPARE(runs[0].labels, int64_t(server->answeredTexts.load() / 2));
        QVERIFY(runs[0].labels >= 2);
        QCOMPARE(queryInt64(setup.databasePath, "SELECT count(*) FROM metrics WHERE name = 'loss'"), runs[0].run.lastStep);
    }
};

PREFLAB_TEST_MAIN(TestRewardServer)
#include "tst_reward_server.moc"
