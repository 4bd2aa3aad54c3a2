#pragma once
// Entry point for widget tests: a QApplication (run with QT_QPA_PLATFORM=offscreen).
#include "support/test_main.h"
#include <QApplication>
#define PREFLAB_GUI_TEST_MAIN(TestObject)                  \
    int main(int argc, char** argv) {                      \
        preflab::applyLibraryEnvironment(argc, argv);      \
        QApplication app(argc, argv);                      \
        TestObject tc;                                     \
        QTEST_SET_MAIN_SOURCE_PATH                         \
        return QTest::qExec(&tc, argc, argv);              \
    }
