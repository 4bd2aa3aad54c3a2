#include "ui/polled_request.h"

#include <QTimer>

namespace preflab {

PolledRequest::PolledRequest(DatabaseReader* reader, std::function<quint64()> send, QObject* parent)
    : QObject(parent), m_send(std::move(send)), m_timer(new QTimer(this)) {
    m_timer->setInterval(2000);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (!m_waiting) refresh();
    });
    connect(reader, &DatabaseReader::failed, this, [this](quint64 request, const QString& message) {
        if (!accept(request)) return;
        Q_EMIT failed(message);
    });
}

void PolledRequest::refresh() {
    m_waiting = true;
    m_request = m_send();
}

void PolledRequest::start() {
    m_timer->start();
}

void PolledRequest::stop() {
    m_timer->stop();
}

bool PolledRequest::accept(quint64 request) {
    if (request != m_request) return false;
    m_waiting = false;
    return true;
}

}  // namespace preflab
