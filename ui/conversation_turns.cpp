#include "ui/conversation_turns.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace preflab {
namespace {

constexpr int kFoldedLength = 110;  // an earlier turn folded: one line of about this many characters

QString roleName(const std::string& role) {
    if (role == "user") return QCoreApplication::translate("ConversationTurns", "User");
    if (role == "assistant") return QCoreApplication::translate("ConversationTurns", "Assistant");
    if (role == "system") return QCoreApplication::translate("ConversationTurns", "System");
    return QCoreApplication::translate("ConversationTurns", "Tool");
}

QString paragraphs(const QString& text) {
    return text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
}

}  // namespace

std::vector<ChatMessage> conversationTurns(const std::string& prompt) {
    // A marker opens the text or follows a blank line (HH also puts its
    // blank line before the first "Human:").
    static const QRegularExpression marker(QStringLiteral("(?:^|\\n\\n)(Human|User|Assistant|System|Tool):[ \\t]?"));
    const QString text = QString::fromStdString(prompt);
    std::vector<ChatMessage> turns;
    QRegularExpressionMatchIterator it = marker.globalMatch(text);
    int contentStart = -1;
    std::string role;
    auto close = [&](int end) {
        if (contentStart < 0) return;
        turns.push_back({role, text.mid(contentStart, end - contentStart).trimmed().toStdString()});
    };
    bool first = true;
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        // Text before the first marker: a conversation starts with a turn.
        if (first && !text.left(m.capturedStart()).trimmed().isEmpty()) return {};
        first = false;
        close(m.capturedStart());
        const QString r = m.captured(1).toLower();
        role = r == QLatin1String("human") ? "user" : r.toStdString();
        contentStart = m.capturedEnd();
    }
    close(static_cast<int>(text.size()));
    if (!turns.empty() && turns.back().role == "assistant" && turns.back().content.empty()) turns.pop_back();
    if (turns.size() < 2) return {};
    return turns;
}

QString promptHtml(const std::string& prompt, bool showEarlier) {
    const std::vector<ChatMessage> turns = conversationTurns(prompt);
    if (turns.empty()) return paragraphs(QString::fromStdString(prompt));
    // The turn the responses answer: the last user turn (a conversation
    // may end with a system or tool turn after it).
    int last = static_cast<int>(turns.size()) - 1;
    for (int i = last; i >= 0; --i) {
        if (turns[static_cast<size_t>(i)].role == "user") {
            last = i;
            break;
        }
    }
    QString html;
    const int earlier = last;
    if (earlier > 0) {
        html += QStringLiteral("<div style=\"font-weight:normal; font-size:small; color:#555\">");
        bool foldable = false;  // the link only where folding changes something
        for (int i = 0; i < earlier; ++i) {
            const ChatMessage& t = turns[static_cast<size_t>(i)];
            QString content = QString::fromStdString(t.content);
            const QString line = content.simplified();
            const QString folded = line.size() > kFoldedLength ? line.left(kFoldedLength) + QChar(0x2026) : line;
            foldable = foldable || folded != content;
            if (!showEarlier) content = folded;
            html += QStringLiteral("<p style=\"margin:2px 0\"><b>%1:</b> %2</p>")
                        .arg(roleName(t.role), paragraphs(content));
        }
        const QString link =
            showEarlier ? QCoreApplication::translate("ConversationTurns", "fold the earlier turns")
            : earlier == 1
                ? QCoreApplication::translate("ConversationTurns", "show the earlier turn in full")
                : QCoreApplication::translate("ConversationTurns", "show the %1 earlier turns in full").arg(earlier);
        if (foldable) html += QStringLiteral("<p style=\"margin:2px 0\"><a href=\"#earlier\">%1</a></p>").arg(link);
        html += QStringLiteral("</div>");
    }
    for (int i = last; i < static_cast<int>(turns.size()); ++i) {
        const ChatMessage& t = turns[static_cast<size_t>(i)];
        html += QStringLiteral("<p style=\"margin:4px 0\"><span style=\"color:#1f5fa8\">%1:</span> %2</p>")
                    .arg(roleName(t.role), paragraphs(QString::fromStdString(t.content)));
    }
    return html;
}

}  // namespace preflab
