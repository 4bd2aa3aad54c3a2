#include "ui/key_bindings.h"

#include <QKeyEvent>
#include <QSettings>

namespace preflab {

KeyBindings::KeyBindings() {
    m_keys[LabelAction::ChooseA] = {QKeySequence(Qt::Key_1), QKeySequence(Qt::Key_A)};
    m_keys[LabelAction::ChooseB] = {QKeySequence(Qt::Key_2), QKeySequence(Qt::Key_B)};
    m_keys[LabelAction::Tie] = {QKeySequence(Qt::Key_T)};
    m_keys[LabelAction::BothBad] = {QKeySequence(Qt::Key_X)};
    m_keys[LabelAction::Skip] = {QKeySequence(Qt::Key_S), QKeySequence(Qt::Key_Space)};
    m_keys[LabelAction::Undo] = {QKeySequence(QKeySequence::Undo)};
    m_keys[LabelAction::ToggleRating] = {QKeySequence(Qt::Key_R)};
    m_keys[LabelAction::ThumbUp] = {QKeySequence(Qt::Key_U), QKeySequence(Qt::Key_Up)};
    m_keys[LabelAction::ThumbDown] = {QKeySequence(Qt::Key_D), QKeySequence(Qt::Key_Down)};
    m_keys[LabelAction::ToggleRaw] = {QKeySequence(Qt::Key_M)};   // M: Markdown or raw
    m_keys[LabelAction::ToggleDiff] = {QKeySequence(Qt::Key_H)};  // H: highlight the differences
    m_keys[LabelAction::ToggleGuidelines] = {QKeySequence(Qt::Key_G)};
    m_keys[LabelAction::Edit] = {QKeySequence(Qt::Key_E)};
}

QList<LabelAction> KeyBindings::actions() {
    return {LabelAction::ChooseA,   LabelAction::ChooseB,   LabelAction::Tie,          LabelAction::BothBad,
            LabelAction::Skip,      LabelAction::Undo,      LabelAction::ToggleRating, LabelAction::ThumbUp,
            LabelAction::ThumbDown, LabelAction::ToggleRaw, LabelAction::ToggleDiff,   LabelAction::ToggleGuidelines,
            LabelAction::Edit};
}

QString KeyBindings::actionName(LabelAction a) {
    switch (a) {
    case LabelAction::ChooseA: return QObject::tr("A is better");
    case LabelAction::ChooseB: return QObject::tr("B is better");
    case LabelAction::Tie: return QObject::tr("Tie");
    case LabelAction::BothBad: return QObject::tr("Both bad");
    case LabelAction::Skip: return QObject::tr("Skip");
    case LabelAction::Undo: return QObject::tr("Undo last label");
    case LabelAction::ToggleRating: return QObject::tr("Rating mode");
    case LabelAction::ThumbUp: return QObject::tr("Thumbs up");
    case LabelAction::ThumbDown: return QObject::tr("Thumbs down");
    case LabelAction::ToggleRaw: return QObject::tr("Raw text");
    case LabelAction::ToggleGuidelines: return QObject::tr("Guidelines");
    case LabelAction::ToggleDiff: return QObject::tr("Differences");
    case LabelAction::Edit: return QObject::tr("Edit");
    }
    return {};
}

QString KeyBindings::settingsKey(LabelAction a) {
    switch (a) {
    case LabelAction::ChooseA: return QStringLiteral("keys/choose_a");
    case LabelAction::ChooseB: return QStringLiteral("keys/choose_b");
    case LabelAction::Tie: return QStringLiteral("keys/tie");
    case LabelAction::BothBad: return QStringLiteral("keys/both_bad");
    case LabelAction::Skip: return QStringLiteral("keys/skip");
    case LabelAction::Undo: return QStringLiteral("keys/undo");
    case LabelAction::ToggleRating: return QStringLiteral("keys/rating_mode");
    case LabelAction::ThumbUp: return QStringLiteral("keys/thumb_up");
    case LabelAction::ThumbDown: return QStringLiteral("keys/thumb_down");
    case LabelAction::ToggleRaw: return QStringLiteral("keys/raw_text");
    case LabelAction::ToggleGuidelines: return QStringLiteral("keys/guidelines");
    case LabelAction::ToggleDiff: return QStringLiteral("keys/differences");
    case LabelAction::Edit: return QStringLiteral("keys/edit");
    }
    return {};
}

bool KeyBindings::match(const QKeyEvent* event, LabelAction* action) const {
    // Keypad digits and shifted letters count as the plain key.
    const Qt::KeyboardModifiers mods = event->modifiers() & ~(Qt::KeypadModifier | Qt::ShiftModifier);
    const QKeySequence pressed(QKeyCombination(mods, static_cast<Qt::Key>(event->key())));
    for (auto it = m_keys.cbegin(); it != m_keys.cend(); ++it) {
        for (const QKeySequence& k : it.value()) {
            if (!k.isEmpty() && k.matches(pressed) == QKeySequence::ExactMatch) {
                *action = it.key();
                return true;
            }
        }
    }
    return false;
}

QString KeyBindings::caption(LabelAction a) const {
    QStringList parts;
    for (const QKeySequence& k : m_keys.value(a)) {
        if (!k.isEmpty()) parts << k.toString(QKeySequence::NativeText);
    }
    return parts.join(QStringLiteral(" / "));
}

QString KeyBindings::conflict() const {
    QMap<QString, LabelAction> seen;
    for (auto it = m_keys.cbegin(); it != m_keys.cend(); ++it) {
        for (const QKeySequence& k : it.value()) {
            if (k.isEmpty()) continue;
            const QString text = k.toString(QKeySequence::PortableText);
            if (seen.contains(text) && seen.value(text) != it.key()) {
                return QObject::tr("%1 is bound to both \"%2\" and \"%3\"")
                    .arg(k.toString(QKeySequence::NativeText), actionName(seen.value(text)), actionName(it.key()));
            }
            seen.insert(text, it.key());
        }
    }
    return {};
}

void KeyBindings::load(QSettings& settings) {
    for (LabelAction a : actions()) {
        const QStringList stored = settings.value(settingsKey(a)).toStringList();
        if (stored.isEmpty()) continue;
        QList<QKeySequence> keys;
        for (const QString& s : stored) keys << QKeySequence::fromString(s, QKeySequence::PortableText);
        m_keys[a] = keys;
    }
}

void KeyBindings::save(QSettings& settings) const {
    for (LabelAction a : actions()) {
        QStringList out;
        for (const QKeySequence& k : m_keys.value(a)) out << k.toString(QKeySequence::PortableText);
        settings.setValue(settingsKey(a), out);
    }
}

}  // namespace preflab
