#pragma once
// How long the pair on screen has been before the person: a stopwatch
// restarted when a pair appears that runs only while the labeling window is
// active, so a label's seconds leave out time spent in another window. Its
// time source is replaceable, so tests move time by hand instead of
// sleeping. UI thread.
#include <QElapsedTimer>
#include <QtGlobal>

#include <functional>

namespace preflab {

class LabelClock {
public:
    using Source = std::function<qint64()>;  // monotonic milliseconds

    LabelClock();
    Q_DISABLE_COPY(LabelClock)  // the default source points at this clock's timer
    // Replaces the time source (tests); the clock restarts from it.
    void setSource(Source source);
    // Monotonic milliseconds from the source (for rates such as labels per minute).
    qint64 now() const { return m_source(); }

    // A pair appeared: counting starts again from zero (paused while inactive).
    void restart();
    // The window became active (counting resumes) or inactive (it pauses).
    void setActive(bool active);
    bool active() const { return m_active; }
    // Milliseconds counted since restart().
    qint64 elapsedMs() const;

private:
    Source m_source;
    QElapsedTimer m_timer;  // the default source's
    bool m_active = true;
    qint64 m_counted = 0;  // before the running stretch
    qint64 m_since = 0;    // when the running stretch began (while active)
};

}  // namespace preflab
