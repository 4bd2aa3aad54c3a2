#pragma once
// Progress output on the terminal: a redrawn line on a TTY, plain lines every
// few seconds otherwise (CI logs stay readable).
#include <QString>

#include <chrono>
#include <cstdio>

namespace preflab {

class TerminalProgress {
public:
    explicit TerminalProgress(std::FILE* stream = stdout);
    // Shows `text`; on a non-TTY only every few seconds unless force is set.
    void show(const QString& text, bool force = false);
    // Ends the redrawn line.
    void done();
    static QString bar(double fraction, int width = 24);

private:
    std::FILE* m_stream;
    bool m_tty;
    bool m_open = false;
    std::chrono::steady_clock::time_point m_last;
};

}  // namespace preflab
