#include "core/values/reward_server_url.h"

#include <QUrl>

namespace preflab {

std::string rewardServerUrlProblem(const std::string& url) {
    if (url.empty()) return "reward_server is empty: give the server's address, e.g. http://127.0.0.1:5000/get_reward";
    const QUrl u(QString::fromStdString(url), QUrl::StrictMode);
    // The address is shown without user information: a password in it must not
    // reach this message either.
    const std::string shown = rewardServerDisplayUrl(url);
    if (!u.isValid()) return "reward_server '" + shown + "' is not a valid address";
    if (u.scheme() != QLatin1String("http") && u.scheme() != QLatin1String("https")) {
        return "reward_server '" + shown + "' must start with http:// or https://";
    }
    if (u.host().isEmpty()) return "reward_server '" + shown + "' names no host";
    if (!u.userInfo().isEmpty()) {
        return "reward_server '" + shown + "' holds a user name or password: leave credentials out of the address "
               "(it is stored with the run) and put a bearer token in " + kRewardServerTokenVariable;
    }
    return {};
}

std::string rewardServerDisplayUrl(const std::string& url) {
    QUrl u(QString::fromStdString(url), QUrl::TolerantMode);
    if (!u.isValid() || u.host().isEmpty()) {
        // Not an address QUrl reads: drop what could be credentials (before an
        // '@') and anything from a query on.
        std::string s = url.substr(0, url.find_first_of("?#"));
        if (const size_t at = s.rfind('@'); at != std::string::npos) {
            const size_t scheme = s.find("://");
            s = (scheme != std::string::npos && scheme < at ? s.substr(0, scheme + 3) : std::string()) + s.substr(at + 1);
        }
        return s;
    }
    u.setUserInfo(QString());
    u.setQuery(QString());
    u.setFragment(QString());
    if (u.path().isEmpty() || u.path() == QLatin1String("/")) u.setPath(QStringLiteral("/get_reward"));
    return u.toString(QUrl::FullyEncoded).toStdString();
}

}  // namespace preflab
