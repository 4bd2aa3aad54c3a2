#pragma once
// The desktop application's composition root: opens the database, builds the
// run controller, the database reader and the main window, restores settings,
// runs the first-run pretraining with a progress dialog, and shuts down in
// order. `--screenshot FILE` renders the window during a short demo run.
namespace preflab {

// Creates the QApplication itself; returns the exit code.
int runGui(int argc, char** argv);
// True when a window can be shown (a display, or an explicit Qt platform).
bool displayAvailable();

}  // namespace preflab
