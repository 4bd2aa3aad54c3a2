#pragma once
// A view's read that repeats while the view is shown: posts a request to the
// DatabaseReader every two seconds (never a second one while the first is
// out), tells the view which answer is the newest, and passes a failure of
// that request on. The Agreement and Adjudication tabs follow labels as they
// arrive this way. UI thread.
#include "storage/database_reader.h"

#include <QObject>

#include <functional>

class QTimer;

namespace preflab {

class PolledRequest : public QObject {
    Q_OBJECT
public:
    // `send` posts the request and returns its id (a DatabaseReader call).
    PolledRequest(DatabaseReader* reader, std::function<quint64()> send, QObject* parent);

    void refresh();             // posts the request now
    void start();               // polls every two seconds (the view is shown)
    void stop();                // stops polling (the view is hidden)
    // Whether `request` is the newest one's answer; it is then no longer out.
    bool accept(quint64 request);

Q_SIGNALS:
    void failed(const QString& message);

private:
    std::function<quint64()> m_send;
    quint64 m_request = 0;
    bool m_waiting = false;  // a request is out: the poll does not pile up more
    QTimer* m_timer;
};

}  // namespace preflab
