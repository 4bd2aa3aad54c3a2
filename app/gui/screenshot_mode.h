#pragma once
// `preflab --screenshot FILE`: renders the workbench offscreen once a tab has
// drawn what it shows (a short demo run's curves, the comparison, the
// completions, the agreement, adjudication or labeling-project views) and
// exits. For the README's pictures and for looking at what a person sees.
class QCommandLineParser;

namespace preflab {

class Workbench;

// The --screenshot* options (and their help).
void addScreenshotOptions(QCommandLineParser& parser);
// Runs the screenshot mode on an opened workbench; returns the exit code.
int runScreenshot(const QCommandLineParser& parser, Workbench& workbench);

}  // namespace preflab
