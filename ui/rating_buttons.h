#pragma once
// The labeling view's rating buttons (rating mode): 1-7 buttons for the left and
// the right response, and a hint saying what to press next. It only shows
// and reports; LabelingState keeps the half-given rating. UI thread.
#include <QWidget>

class QButtonGroup;
class QLabel;

namespace preflab {

constexpr int kRatingMax = 7;

class RatingButtons : public QWidget {
    Q_OBJECT
public:
    explicit RatingButtons(QWidget* parent = nullptr);
    // Nothing checked; the hint explains the mode.
    void reset();
    // The left response was rated `value`: shown checked, the hint asks for the right one.
    void leftRated(int value);

Q_SIGNALS:
    void leftClicked(int value);
    void rightClicked(int value);

private:
    QButtonGroup* m_left;
    QButtonGroup* m_right;
    QLabel* m_hint;
};

}  // namespace preflab
