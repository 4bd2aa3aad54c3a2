#pragma once
// The labeling keys: each action has one or two key sequences, remappable in
// the preferences and kept in QSettings. Value type; UI thread.
#include <QKeySequence>
#include <QList>
#include <QMap>
#include <QString>

class QKeyEvent;
class QSettings;

namespace preflab {

// ThumbUp and ThumbDown act in the thumbs mode (one response at a time), the
// choices between two responses everywhere else.
// ToggleRaw and ToggleDiff change only what the panes show: the Markdown
// rendered or the raw text, and the words that differ between A and B marked.
enum class LabelAction {
    ChooseA,
    ChooseB,
    Tie,
    BothBad,
    Skip,
    Undo,
    ToggleRating,
    ThumbUp,
    ThumbDown,
    ToggleRaw,
    ToggleDiff,
    ToggleGuidelines,  // shows or hides the guidelines beside the pair
    Edit,              // edit a response into the one preferred (a correction pair)
};

class KeyBindings {
public:
    KeyBindings();  // the defaults: 1/A, 2/B, T, X, S/Space, Ctrl+Z, R; thumbs U/Up, D/Down; M (raw), H (differences),
                    // G (guidelines), E (edit)
    static QList<LabelAction> actions();
    static QString actionName(LabelAction a);   // "Prefer A", ...
    static QString settingsKey(LabelAction a);  // "keys/choose_a", ...

    QList<QKeySequence> keys(LabelAction a) const { return m_keys.value(a); }
    void setKeys(LabelAction a, const QList<QKeySequence>& keys) { m_keys[a] = keys; }
    // The action a key press maps to, if any.
    bool match(const QKeyEvent* event, LabelAction* action) const;
    // "1 / A" for a button's caption.
    QString caption(LabelAction a) const;
    // Actions that share a key (a remapping mistake the preferences refuse).
    QString conflict() const;

    void load(QSettings& settings);
    void save(QSettings& settings) const;

private:
    QMap<LabelAction, QList<QKeySequence>> m_keys;
};

}  // namespace preflab
