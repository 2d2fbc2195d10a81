// The dashboard's HTTP layer: routes, the token and host rules, static assets, artifact streaming.
// The only file that includes httplib.
#include "server/server.hpp"

#include <httplib.h>

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <map>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "server/api.hpp"
#include "server/api_blend.hpp"
#include "server/api_images.hpp"
#include "server/api_shake.hpp"
#include "server/api_review.hpp"
#include "server/api_study.hpp"
#include "server/assets.hpp"
#include "server/listen.hpp"

namespace compe::server {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool valid_token(const std::string& t) {
  if (t.size() < 8 || t.size() > 256) return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '~'))
      return false;
  return true;
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

/// The host part of a Host header: "127.0.0.1:8765" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string host_of(const std::string& header) {
  if (!header.empty() && header[0] == '[') {
    auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  return header.substr(0, header.find(':'));
}

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

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  send_json(res, {{"error", escape_controls(message)}, {"code", code}}, status);
}

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kParse:
      return 400;
    default:
      return 500;
  }
}

Params params_of(const httplib::Request& req) {
  Params p;
  for (const auto& [k, v] : req.params) p.emplace(k, v);  // first value wins
  return p;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (::inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

std::string random_token() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

struct Server::Impl {
  Store& store;
  fs::path root;
  Options options;
  GuardedServer http;
  Listening listening;

  Impl(Store& s, fs::path r, Options o) : store(s), root(std::move(r)), options(std::move(o)) {}

  /// Runs an API handler, turning compe errors into JSON error responses. A name in the path
  /// with a control character (a NUL would cut the message) is refused before any lookup.
  template <typename F>
  httplib::Server::Handler api(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      for (std::size_t i = 1; i < req.matches.size(); ++i) {
        const std::string part = req.matches[i];
        const auto bad = std::find_if(part.begin(), part.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        });
        if (bad != part.end()) {
          send_error(res, 400, "invalid_argument",
                     fmt::format("'{}' in the path holds a control character (0x{:02x} at offset {}): "
                                 "run ids, study names and file names are printable text",
                                 escape_ascii_controls(part), static_cast<unsigned char>(*bad), bad - part.begin()));
          return;
        }
      }
      try {
        f(req, res);
      } catch (const Error& e) {
        send_error(res, status_for(e.code()), std::string(error_code_name(e.code())), shown(e.what()));
      } catch (const std::exception& e) {
        send_error(res, 500, "internal", shown(e.what()));
      }
    };
  }


  /// A message as the dashboard shows it: paths inside the workspace relative to it (the store
  /// at .compe/compe.db, not the absolute path of the machine serving it).
  std::string shown(std::string message) const {
    std::error_code ec;
    std::vector<std::string> roots;
    const fs::path absolute = fs::absolute(root, ec).lexically_normal();
    if (!ec) roots.push_back(absolute.string());
    const fs::path canonical = fs::weakly_canonical(absolute, ec);
    if (!ec) roots.push_back(canonical.string());
    for (std::string r : roots) {
      while (!r.empty() && r.back() == '/') r.pop_back();
      if (r.size() < 2) continue;  // "/": nothing to take away
      // "<root>/x" becomes "x", and "<root>" alone ".".
      std::string out;
      std::size_t from = 0;
      for (auto pos = message.find(r); pos != std::string::npos; pos = message.find(r, from)) {
        out.append(message, from, pos - from);
        from = pos + r.size();
        if (from < message.size() && message[from] == '/') ++from;
        else out.push_back('.');
      }
      out.append(message, from, std::string::npos);
      message = std::move(out);
    }
    return message;
  }

  httplib::Server::HandlerResponse check_access(const httplib::Request& req,
                                                httplib::Response& res) const {
    set_common_headers(res);
    if (options.token.empty()) {
      if (!is_loopback_host(host_of(req.get_header_value("Host")))) {
        send_error(res, 403, "forbidden",
                   "this server answers only requests addressed to a loopback host");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string given = req.get_param_value("token");
    std::string auth = req.get_header_value("Authorization");
    if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
    if (!equal_constant_time(given, options.token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "unauthorized",
                 "a valid token is required (?token= or Authorization: Bearer)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void serve_asset(const std::string& name, httplib::Response& res) const {
    const Asset* a = find_asset(name);
    if (!a) {
      send_error(res, 404, "not_found", "no such page");
      return;
    }
    std::string body(reinterpret_cast<const char*>(a->data), a->size);
    if (name == "index.html") {
      // The page loads its script and style with the same token it was opened with.
      const std::string mark = "__TOKEN_QUERY__";
      std::string query = options.token.empty() ? "" : "?token=" + options.token;
      for (auto pos = body.find(mark); pos != std::string::npos;
           pos = body.find(mark, pos + query.size()))
        body.replace(pos, mark.size(), query);
      res.set_header(
          "Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
    res.set_content(body, content_type_for(name));
  }

  void routes() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return check_access(req, res);
    });
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) send_error(res, res.status, "not_found", "no such resource");
    });
    http.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      serve_asset("index.html", res);
    });
    http.Get("/index.html", [this](const httplib::Request&, httplib::Response& res) {
      serve_asset("index.html", res);
    });
    // Scripts and styles of web/ by file name (app.js, app.css, page_*.js).
    http.Get(R"(/([a-z_]+\.(?:js|css)))", [this](const httplib::Request& req, httplib::Response& res) {
      serve_asset(req.matches[1], res);
    });
    http.Get("/api/health", api([this](const httplib::Request&, httplib::Response& res) {
               send_json(res, {{"status", "ok"},
                               {"version", COMPE_VERSION},
                               {"store", shown(store.url())},
                               {"workspace", root.filename().string()},
                               {"schema_version", store.schema_version()}});
             }));
    http.Get("/api/runs", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, runs_json(store, params_of(req)));
             }));
    http.Get(R"(/api/runs/([^/]+))",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, run_json(store, req.matches[1]));
             }));
    http.Get(R"(/api/runs/([^/]+)/metrics)",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, metrics_json(store, req.matches[1], req.get_param_value("key")));
             }));
    http.Get(R"(/api/runs/([^/]+)/artifacts/(.*))",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_artifact(req, res);
             }));
    http.Get(R"(/api/runs/([^/]+)/images)",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, run_images_json(store, root, req.matches[1], params_of(req)));
             }));
    http.Get(R"(/api/runs/([^/]+)/columns)",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, run_columns_json(store, root, req.matches[1]));
             }));
    // Everything after /api/images/ (slashes and dots included) reaches find_image's id check.
    http.Get(R"(/api/images/(.*))", api([this](const httplib::Request& req, httplib::Response& res) {
               send_image(req, res);
             }));
    http.Get("/api/compare", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, compare_json(store, req.get_param_value("ids")));
             }));
    http.Get("/api/studies", api([this](const httplib::Request&, httplib::Response& res) {
               send_json(res, studies_json(store));
             }));
    http.Get(R"(/api/studies/([^/]+))",
             api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, study_json(store, req.matches[1]));
             }));
    http.Get("/api/lb", api([this](const httplib::Request&, httplib::Response& res) {
               send_json(res, lb_json(store));
             }));
    http.Get("/api/shake", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, shake_json(store, root, params_of(req)));
             }));
    review_routes();
    http.Get("/api/diversity", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, diversity_json(store, root, req.get_param_value("ids"),
                                             req.get_param_value("method")));
             }));
  }

  // The review page (api_review.hpp): the dashboard's one write, an edit, is a POST of JSON
  // (a cross-site form cannot send that content type).
  void review_routes() {
    http.Get("/api/review", api([this](const httplib::Request&, httplib::Response& res) {
               send_json(res, review_queues_json(store));
             }));
    http.Get(R"(/api/review/([^/]+))", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, review_queue_json(store, req.matches[1]));
             }));
    http.Get(R"(/api/review/([^/]+)/item)", api([this](const httplib::Request& req, httplib::Response& res) {
               send_json(res, review_item_json(store, req.matches[1], req.get_param_value("key")));
             }));
    http.Post(R"(/api/review/([^/]+)/edit)", api([this](const httplib::Request& req, httplib::Response& res) {
                if (req.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
                  send_error(res, 415, "invalid_argument", "an edit is a JSON body (Content-Type: application/json)");
                  return;
                }
                send_json(res, review_edit_json(store, req.matches[1], req.body));
              }));
  }

  /// Streams a file in 64 KiB pieces (404 when it cannot be opened).
  static void send_file(httplib::Response& res, const fs::path& path, const std::string& content_type) {
    auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (!*in || ec) {
      send_error(res, 404, "not_found", "the file is not readable");
      return;
    }
    res.set_content_provider(static_cast<std::size_t>(size), content_type,
                             [in](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               char buf[64 * 1024];
                               in->seekg(static_cast<std::streamoff>(offset));
                               auto n = static_cast<std::streamsize>(std::min(length, sizeof buf));
                               in->read(buf, n);
                               if (in->gcount() <= 0) return false;
                               sink.write(buf, static_cast<std::size_t>(in->gcount()));
                               return true;
                             });
  }

  void send_image(const httplib::Request& req, httplib::Response& res) {
    const std::string size_text = req.get_param_value("size");
    std::int64_t size = 0;
    if (!size_text.empty()) {
      auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
      if (ec != std::errc() || end != size_text.data() + size_text.size() || size == 0) size = -1;
    }
    ImageFile img = find_image(root, req.matches[1], size);
    if (img.status != 200) {
      static const std::map<int, std::string> kCodes = {
          {400, "invalid_argument"}, {403, "forbidden"}, {404, "not_found"}};
      send_error(res, img.status, kCodes.at(img.status), shown(img.message));
      return;
    }
    // Images may be kept and revalidated with the ETag (every other answer is no-store).
    res.headers.erase("Cache-Control");
    res.set_header("Cache-Control", "private, no-cache");
    res.set_header("ETag", img.etag);
    res.set_header("Last-Modified", img.last_modified);
    if (img.thumbnail) res.set_header("X-Compe-Thumbnail", std::to_string(size));
    if (req.get_header_value("If-None-Match") == img.etag) {
      res.status = 304;
      return;
    }
    send_file(res, img.path, img.content_type);
  }

  void send_artifact(const httplib::Request& req, httplib::Response& res) {
    ArtifactFile a = find_artifact(store, root, req.matches[1], req.matches[2]);
    if (a.status != 200) {
      send_error(res, a.status, a.status == 403 ? "forbidden" : "not_found", shown(a.message));
      return;
    }
    res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}\"", a.filename));
    send_file(res, a.path, a.content_type);
  }
};

Server::Server(Store& store, fs::path workspace_root, Options options) {
  if (!options.token.empty() && !valid_token(options.token))
    fail(ErrorCode::kInvalidArgument,
         "--token: expected 8 to 256 characters from A-Z a-z 0-9 . _ ~ -; got {} characters",
         options.token.size());
  if (options.token.empty() && !is_loopback_host(options.host))
    fail(ErrorCode::kInvalidArgument, "--host {}: a non-loopback address requires a token",
         options.host);
  if (options.port < 0 || options.port > 65535)
    fail(ErrorCode::kInvalidArgument, "--port {}: expected 0 (any free port) to 65535",
         options.port);
  int threads = std::max(1, options.threads);
  impl_ = std::make_unique<Impl>(store, std::move(workspace_root), std::move(options));
  Listening::configure(impl_->http, threads, impl_->options.limits);
  impl_->routes();
}

Server::~Server() = default;

int Server::bind() {
  const auto& o = impl_->options;
  return bind_port(impl_->http, o.host, o.port);
}

void Server::run() { impl_->listening.run(impl_->http); }

void Server::stop() { impl_->listening.stop(impl_->http); }

std::string Server::respond(std::string_view request) { return impl_->http.respond(request); }

}  // namespace compe::server
