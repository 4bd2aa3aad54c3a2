// Fuzz target: the ratings CSV reader (storage/import_text.h) must read any
// bytes to rows or line errors (or refuse the header with StorageError):
// never crash, hang, hold a record over its limit or read outside the input.
// What it accepts must hold: a rating in range, texts valid UTF-8, a
// non-empty response; CSV quoting (csvField) of the fields it read reads back
// as the same fields, and the spreadsheet escape undoes exactly.
// See standalone_fuzz_driver.cpp.
#include "storage/file_writing.h"
#include "storage/import_text.h"
#include "storage/pair_line_parser.h"
#include "storage/sql_connection.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    {
        std::istringstream in(input);
        preflab::ImportReport report;
        try {
            preflab::readRatingsCsv(in, "fuzz.csv", {1, 7}, report, [](preflab::RatingCsvRow& row) {
                if (!(row.rating >= 1 && row.rating <= 7) || row.response.text.empty()) std::abort();
                if (preflab::invalidUtf8Offset(row.prompt) >= 0 || preflab::invalidUtf8Offset(row.response.text) >= 0) std::abort();
                if (preflab::fromSpreadsheetCell(preflab::spreadsheetCell(row.prompt)) != row.prompt) std::abort();
                if (row.response.samplingLogprob && *row.response.samplingLogprob > 0) std::abort();
            });
        } catch (const preflab::StorageError&) {
        }
    }
    // The record reader alone, with a small limit, and the quoting round trip.
    std::istringstream in(input);
    preflab::CsvReader csv(in, 256);
    std::vector<std::string> fields, again;
    std::string error, error2;
    while (csv.next(fields, error)) {
        size_t bytes = 0;
        for (const std::string& f : fields) bytes += f.size();
        if (bytes > 256) std::abort();
        if (!error.empty()) continue;
        std::string line;
        for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + preflab::csvField(fields[i]);
        std::istringstream back(line + "\r\n");
        preflab::CsvReader reread(back, 1 << 20);
        if (!reread.next(again, error2) || !error2.empty() || again != fields) std::abort();
    }
    return 0;
}

std::vector<std::string> preflabFuzzSeeds() {
    return {
        "prompt,response,rating,sampling_logprob\r\n\"Say \"\"hi\"\", please\",\"line one\r\nline two\",6.5,-2.25\r\nq,r,3,\r\n",
        "\xEF\xBB\xBF\"prompt\",\"response\",\"rating\"\nq,r,5\n",
        "id,prompt,response,rating\n1,'=cmd,\"'=x\",2\n2,p,\"a, b\",7\n3,p,\"unclosed,1\n",
        "prompt,response,rating\np,r,9\np,,1\np,r,1,extra\n",
        "prompt,response,rating,rating\n",
    };
}

std::vector<std::string> preflabFuzzTokens() {
    return {"\"", "\"\"", ",", "\r\n", "\n", "\r", "\xEF\xBB\xBF", "prompt", "response", "rating", "sampling_logprob",
            "'=", "=", "-1", "1e308", "nan", "7", "\xC3\xA9", "\xED\xA0\x80"};
}
