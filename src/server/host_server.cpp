// The competition host's HTTP layer: team tokens, uploads, the page. Includes httplib.
#include "server/host_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "compe/json_input.hpp"
#include "server/assets.hpp"
#include "server/listen.hpp"

namespace compe::server {
using nlohmann::json;

namespace {

constexpr std::size_t kBodySlack = 64 * 1024;  // multipart headers around the file

void set_common_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Cache-Control", "no-store");
}

void send_json(httplib::Response& res, const json& doc, int status = 200) {
  res.status = status;
  res.set_content(doc.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  send_json(res, {{"error", escape_controls(message)}, {"code", code}}, status);
}

std::string token_of(const httplib::Request& req) {
  std::string given = req.get_param_value("token");
  std::string auth = req.get_header_value("Authorization");
  if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  return given;
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string content_type_of(const std::string& name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  return "text/css; charset=utf-8";
}

}  // namespace

struct HostServer::Impl {
  host::Host& host;
  HostOptions options;
  GuardedServer http;
  Listening listening;

  Impl(host::Host& h, HostOptions o) : host(h), options(std::move(o)) {}

  /// The caller's team; the pre-routing handler has already refused requests without one.
  std::string team_of(const httplib::Request& req) const {
    return host.team_for_token(token_of(req)).value_or("");
  }

  /// The team named in the path, refused unless it is the caller's.
  std::string own_team(const httplib::Request& req) const {
    std::string named = req.matches[1];
    if (named != team_of(req))
      throw host::Refused(host::Refusal::kForbidden,
                          fmt::format("this token does not belong to team {}", quote(named)));
    return named;
  }

  template <typename F>
  httplib::Server::Handler api(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const host::Refused& e) {
        static constexpr std::pair<host::Refusal, std::pair<int, const char*>> kStatus[] = {
            {host::Refusal::kForbidden, {403, "forbidden"}},
            {host::Refusal::kClosed, {403, "closed"}},
            {host::Refusal::kDailyLimit, {429, "daily_limit"}},
            {host::Refusal::kTooLarge, {413, "too_large"}},
            {host::Refusal::kNotRevealed, {403, "not_revealed"}}};
        for (const auto& [reason, st] : kStatus)
          if (reason == e.reason()) send_error(res, st.first, st.second, e.what());
      } catch (const Error& e) {
        int status = e.code() == ErrorCode::kNotFound                                     ? 404
                     : e.code() == ErrorCode::kInvalidArgument || e.code() == ErrorCode::kParse ? 400
                                                                                          : 500;
        send_error(res, status, std::string(error_code_name(e.code())), e.what());
      } catch (const std::exception&) {
        send_error(res, 500, "internal", "internal error");
      }
    };
  }

  void serve_asset(const std::string& name, const httplib::Request& req, httplib::Response& res) const {
    const Asset* a = find_asset(name);
    if (!a) {
      send_error(res, 404, "not_found", "no such page");
      return;
    }
    std::string body(reinterpret_cast<const char*>(a->data), a->size);
    if (name == "host.html") {
      // The page loads its script and styles with the token it was opened with.
      const std::string mark = "__TOKEN_QUERY__";
      std::string query = "?token=" + url_encode(token_of(req));
      for (auto pos = body.find(mark); pos != std::string::npos; pos = body.find(mark, pos + query.size()))
        body.replace(pos, mark.size(), query);
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
    res.set_content(body, content_type_of(name));
  }

  // Why httplib refused a request's body before any handler ran (it answers 400 and says nothing):
  // for multipart, from the Content-Type header, the only part of the request left to look at.
  static std::string unreadable_body(const httplib::Request& req) {
    const std::string type = req.get_header_value("Content-Type");
    if (type.find("multipart/form-data") == std::string::npos)
      return "the request could not be read: a malformed request line, header or body";
    const auto at = type.find("boundary=");
    if (at == std::string::npos || at + 9 >= type.size())
      return "the multipart/form-data body has no boundary: the Content-Type header must name it "
             "(multipart/form-data; boundary=...)";
    std::string boundary = type.substr(at + 9);
    boundary = boundary.substr(0, boundary.find(';'));
    if (boundary.size() > 70) boundary = boundary.substr(0, 70) + "...";
    return fmt::format(
        "the multipart/form-data body does not parse with the boundary '{}' of its Content-Type "
        "header: expected parts that each open with a '--{}' line and headers naming the form "
        "field (Content-Disposition: form-data; name=\"file\"; filename=...), closed by a '--{}--' "
        "line; the boundary differs from the body's, or the body is truncated or not multipart",
        boundary, boundary, boundary);
  }

  void upload(const httplib::Request& req, httplib::Response& res) {
    std::string team = own_team(req);
    std::string body, name;
    if (req.is_multipart_form_data()) {
      if (!req.has_file("file"))
        fail(ErrorCode::kInvalidArgument, "the upload has no form field 'file' holding the CSV");
      const auto& f = req.get_file_value("file");
      body = f.content;
      name = f.filename;
    } else {
      body = req.body;
      name = req.get_param_value("name");
    }
    host::Submission s = host.submit(team, body, name, host::now_ms());
    json doc = host::submission_json(s, false);
    doc["remaining_today"] = std::max(0, host.config().daily_limit - host.submissions_today(team, s.time_ms));
    send_json(res, doc, 201);
  }

  void finals(const httplib::Request& req, httplib::Response& res) {
    std::string team = own_team(req);
    std::vector<std::int64_t> ids;
    const json doc = parse_json(req.body, "finals: the request body");
    const JsonAt body(doc, "finals: the request body");
    if (!doc.is_object()) body.expected("an object {\"ids\": [submission ids]}");
    const JsonAt list = body.at("ids", "a list of submission ids");
    if (!list.value().is_array()) list.expected("a list of submission ids");
    for (std::size_t i = 0; i < list.size(); ++i) ids.push_back(list.at(i).integer());
    host.set_finals(team, ids, host::now_ms());
    send_json(res, host::submissions_json(host, team, host::now_ms()));
  }

  void routes() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      set_common_headers(res);
      if (!host.team_for_token(token_of(req))) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, 401, "unauthorized", "a valid team token is required (?token= or Authorization: Bearer)");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413)
        send_error(res, 413, "too_large", "the upload is larger than this competition accepts");
      else if (res.status == 400)
        send_error(res, 400, "bad_request", unreadable_body(req));
      else
        send_error(res, res.status, res.status == 404 ? "not_found" : "bad_request", "no such resource");
    });
    auto page = [this](const httplib::Request& req, httplib::Response& res) { serve_asset("host.html", req, res); };
    http.Get("/", page);
    http.Get("/host.html", page);
    http.Get(R"(/(common\.js|host\.js|host\.css|app\.css))", [this](const httplib::Request& req, httplib::Response& res) {
      serve_asset(req.matches[1], req, res);
    });
    http.Get("/api/info", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, host::info_json(host, team_of(req), host::now_ms()));
             }));
    http.Get("/api/leaderboard", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, host::leaderboard_json(host, team_of(req), host::now_ms()));
             }));
    const std::string subs = R"(/api/teams/([^/]+)/submissions)";
    http.Get(subs, api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, host::submissions_json(host, own_team(req), host::now_ms()));
             }));
    http.Post(subs, api([this](const httplib::Request& req, httplib::Response& res) { upload(req, res); }));
    const std::string fin = R"(/api/teams/([^/]+)/finals)";
    http.Put(fin, api([this](const httplib::Request& req, httplib::Response& res) { finals(req, res); }));
    http.Post(fin, api([this](const httplib::Request& req, httplib::Response& res) { finals(req, res); }));
  }
};

HostServer::HostServer(host::Host& h, HostOptions options) {
  if (options.port < 0 || options.port > 65535)
    fail(ErrorCode::kInvalidArgument, "--port {}: expected 0 (any free port) to 65535", options.port);
  int threads = std::max(1, options.threads);
  impl_ = std::make_unique<Impl>(h, std::move(options));
  Listening::configure(impl_->http, threads, impl_->options.limits);
  impl_->http.set_payload_max_length(h.config().max_upload_bytes + kBodySlack);
  impl_->routes();
}

HostServer::~HostServer() = default;

int HostServer::bind() {
  const auto& o = impl_->options;
  return bind_port(impl_->http, o.host, o.port);
}

void HostServer::run() { impl_->listening.run(impl_->http); }

void HostServer::stop() { impl_->listening.stop(impl_->http); }

std::string HostServer::respond(std::string_view request) { return impl_->http.respond(request); }

}  // namespace compe::server
