#include "ui/guidelines_dialog.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace preflab {

GuidelinesDialog::GuidelinesDialog(const QString& markdown, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Labeling guidelines"));
    m_edit = new QPlainTextEdit(markdown);
    m_edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_preview = new QTextBrowser;
    m_preview->setOpenLinks(false);
    connect(m_edit, &QPlainTextEdit::textChanged, this, [this] {
        m_preview->document()->setMarkdown(
            m_edit->toPlainText(),
            QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub | QTextDocument::MarkdownNoHTML));
    });
    Q_EMIT m_edit->textChanged();
    auto* panes = new QHBoxLayout;
    panes->addWidget(m_edit, 1);
    panes->addWidget(m_preview, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
    QPushButton* import = buttons->addButton(tr("Import a file..."), QDialogButtonBox::ActionRole);
    connect(import, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Guidelines"), QString(),
                                                          tr("Markdown or text (*.md *.markdown *.txt);;Any file (*)"));
        if (path.isEmpty()) return;
        const QString problem = importFile(path);
        if (!problem.isEmpty()) QMessageBox::warning(this, tr("Guidelines"), problem);
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(
        new QLabel(tr("Markdown, for every stored pair (labeling projects, and runs without guidelines of "
                      "their own). Annotators see it beside each pair; the earlier text is kept.")));
    layout->addLayout(panes, 1);
    layout->addWidget(buttons);
    resize(900, 560);
}

QString GuidelinesDialog::markdown() const {
    return m_edit->toPlainText();
}

QString GuidelinesDialog::importFile(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return tr("Cannot read %1: %2").arg(path, f.errorString());
    m_edit->setPlainText(QString::fromUtf8(f.readAll()));
    return {};
}

QString GuidelinesDialog::preview() const {
    return m_preview->toPlainText();
}

}  // namespace preflab
