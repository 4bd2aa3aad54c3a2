#pragma once
// Debian's qcustomplot.h uses Qt's lower-case keywords (signals, slots, emit,
// foreach), which PrefLab turns off project-wide (QT_NO_KEYWORDS, because
// torch headers use `slots` as an identifier). Map them for this one header.
#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach(declaration, container) for (declaration : container)  // QT_NO_FOREACH is on too
#include <qcustomplot.h>
#undef signals
#undef slots
#undef emit
#undef foreach
