#pragma once
// Test entry point: applies the same library environment as the app (OpenMP
// passive waiting, CPU-matched kernels) before Qt Test runs the test object.
#include "core/runtime/library_environment.h"

#include <clocale>
#include <QCoreApplication>
#include <QTest>

#define PREFLAB_TEST_MAIN(TestObject)                      \
    int main(int argc, char** argv) {                      \
        preflab::applyLibraryEnvironment(argc, argv);      \
        QCoreApplication app(argc, argv);                  \
        std::setlocale(LC_NUMERIC, "C");                   \
        TestObject tc;                                     \
        QTEST_SET_MAIN_SOURCE_PATH                         \
        return QTest::qExec(&tc, argc, argv);              \
    }

