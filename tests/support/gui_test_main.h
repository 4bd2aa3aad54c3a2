#pragma once
// Entry point for widget tests: a QApplication that draws offscreen, whoever
// starts the test (CTest or a person at a desktop), unless QT_QPA_PLATFORM
// names a platform explicitly (e.g. xcb, to watch a test).
#include "support/test_main.h"

#include <clocale>
#include <QApplication>

#define PREFLAB_GUI_TEST_MAIN(TestObject)                                                           \
    int main(int argc, char** argv) {                                                               \
        preflab::applyLibraryEnvironment(argc, argv);                                               \
        if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen"); \
        QApplication app(argc, argv);                                                               \
        std::setlocale(LC_NUMERIC, "C");                                                            \
        TestObject tc;                                                                              \
        QTEST_SET_MAIN_SOURCE_PATH                                                                  \
        return QTest::qExec(&tc, argc, argv);                                                       \
    }
