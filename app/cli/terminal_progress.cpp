#include "app/cli/terminal_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace preflab {

TerminalProgress::TerminalProgress(std::FILE* stream) : m_stream(stream), m_tty(isatty(fileno(stream)) != 0) {}

void TerminalProgress::show(const QString& text, bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (m_tty) {
        if (!force && m_open && now - m_last < std::chrono::milliseconds(100)) return;
        std::fprintf(m_stream, "\r\033[K%s", text.toLocal8Bit().constData());
        m_open = true;
    } else {
        if (!force && m_open && now - m_last < std::chrono::seconds(5)) return;
        std::fprintf(m_stream, "%s\n", text.toLocal8Bit().constData());
        m_open = true;
    }
    m_last = now;
    std::fflush(m_stream);
}

void TerminalProgress::done() {
    if (m_tty && m_open) std::fprintf(m_stream, "\n");
    m_open = false;
    std::fflush(m_stream);
}

QString TerminalProgress::bar(double fraction, int width) {
    const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
    return QStringLiteral("[") + QString(filled, QChar('#')) + QString(width - filled, QChar('.')) + QStringLiteral("]");
}

}  // namespace preflab
