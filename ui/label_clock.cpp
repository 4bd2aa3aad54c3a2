#include "ui/label_clock.h"

namespace preflab {

LabelClock::LabelClock() {
    m_timer.start();
    m_source = [this] { return m_timer.elapsed(); };
    restart();
}

void LabelClock::setSource(Source source) {
    m_source = std::move(source);
    restart();
}

void LabelClock::restart() {
    m_counted = 0;
    m_since = m_source();
}

void LabelClock::setActive(bool active) {
    if (active == m_active) return;
    const qint64 t = m_source();
    if (!active)
        m_counted += t - m_since;  // the running stretch ends
    else
        m_since = t;  // a new one begins
    m_active = active;
}

qint64 LabelClock::elapsedMs() const {
    return m_counted + (m_active ? m_source() - m_since : 0);
}

}  // namespace preflab
