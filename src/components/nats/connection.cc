#include "components/nats/connection.h"

#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace ofn::components::nats {

namespace {

// How often libnats retries a lost server. One machine: the server is back
// (or not) quickly, and a retry is cheap.
constexpr int64_t kReconnectWaitMs = 200;
constexpr int64_t kCloseFlushMs = 500;

// libnats' last error on this thread, without its "(file.c:123): " prefix.
std::string LastErrorText() {
  const char* text = nats_GetLastError(nullptr);
  if (text == nullptr) return "";
  std::string_view t = text;
  if (!t.empty() && t.front() == '(') {
    size_t end = t.find("): ");
    if (end != std::string_view::npos) t.remove_prefix(end + 3);
  }
  return std::string(t);
}

// What libnats' callbacks read. They run on libnats' own thread, possibly
// after Connection is gone, up to the "closed" callback, which is the last
// one and frees this.
struct CallbackContext {
  std::string url;
  std::string jwt;
  std::string seed_key;
};

void OnDisconnected(natsConnection* nc, void* closure) {
  if (natsConnection_IsClosed(nc)) return;  // our own Close, not an outage
  log::Warn("pubsub.jetstream: disconnected, reconnecting", {{"url", static_cast<CallbackContext*>(closure)->url}});
}

void OnReconnected(natsConnection*, void* closure) {
  log::Info("pubsub.jetstream: reconnected", {{"url", static_cast<CallbackContext*>(closure)->url}});
}

void OnClosed(natsConnection*, void* closure) { delete static_cast<CallbackContext*>(closure); }

void OnAsyncError(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
  log::Warn("pubsub.jetstream: connection error",
            {{"url", static_cast<CallbackContext*>(closure)->url}, {"error", natsStatus_GetText(err)}});
}

// jwt + seedKey given inline (Dapr's nats.UserJWTAndSeed): libnats asks for
// the JWT and for the nonce's signature at every (re)connect and frees what
// these return.
natsStatus UserJwt(char** jwt, char** /*custom_error*/, void* closure) {
  *jwt = ::strdup(static_cast<CallbackContext*>(closure)->jwt.c_str());
  return *jwt == nullptr ? NATS_NO_MEMORY : NATS_OK;
}

natsStatus SignNonce(char** /*custom_error*/, unsigned char** signature, int* length, const char* nonce,
                     void* closure) {
  return nats_Sign(static_cast<CallbackContext*>(closure)->seed_key.c_str(), nonce, signature, length);
}

}  // namespace

Status FromNats(natsStatus status, std::string_view what) {
  std::string detail = LastErrorText();
  std::string message = std::string(what) + ": " + natsStatus_GetText(status);
  if (!detail.empty() && detail != natsStatus_GetText(status)) message += " (" + detail + ")";
  switch (status) {
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_SSL_ERROR:
      return Status::Unavailable(message);
    case NATS_CONNECTION_AUTH_FAILED:
      return Status::Unauthenticated(message);
    case NATS_NOT_PERMITTED:
      return Status::PermissionDenied(message);
    case NATS_NOT_FOUND:
      return Status::NotFound(message);
    case NATS_ERR:
    case NATS_INVALID_ARG:
      return Status::FailedPrecondition(message);
    default:
      return Status::Internal(message);
  }
}

Result<std::shared_ptr<Connection>> Connection::Open(const ComponentOptions& options) {
  std::shared_ptr<Connection> connection(new Connection(options));
  Status connected = connection->Connect();
  if (!connected.ok()) return connected;
  return connection;
}

Status Connection::Connect() {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  auto* self = new CallbackContext{options_.url, options_.jwt, options_.seed_key};
  if (s == NATS_OK) s = natsOptions_SetURL(opts, options_.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts, options_.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, kReconnectWaitMs);
  // A publish waits for JetStream's ack; while disconnected it should fail
  // now (the caller retries) rather than run into its timeout.
  if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts, true);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, OnDisconnected, self);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, OnReconnected, self);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, OnClosed, self);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, OnAsyncError, self);
  if (s == NATS_OK && !options_.token.empty()) s = natsOptions_SetToken(opts, options_.token.c_str());
  if (s == NATS_OK && !options_.jwt.empty()) {
    s = natsOptions_SetUserCredentialsCallbacks(opts, UserJwt, self, SignNonce, self);
  }
  if (s == NATS_OK && !options_.tls_client_cert.empty()) {
    s = natsOptions_LoadCertificatesChain(opts, options_.tls_client_cert.c_str(), options_.tls_client_key.c_str());
    if (s != NATS_OK) {
      Status failed = FromNats(s, "metadata tls_client_cert/tls_client_key: cannot load " + options_.tls_client_cert);
      natsOptions_Destroy(opts);
      delete self;
      return Status::InvalidArgument(failed.message());
    }
  }
  if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    Status failed = FromNats(s, "cannot connect to natsURL " + options_.url);
    delete self;  // no connection, so no "closed" callback
    return failed;
  }

  jsOptions js_options;
  jsOptions_Init(&js_options);
  if (!options_.domain.empty()) js_options.Domain = options_.domain.c_str();
  if (!options_.api_prefix.empty()) js_options.Prefix = options_.api_prefix.c_str();
  s = natsConnection_JetStream(&js_, nc_, &js_options);
  if (s != NATS_OK) return FromNats(s, "cannot open a JetStream context on " + options_.url);
  return Status::Ok();
}

Connection::~Connection() {
  jsCtx_Destroy(js_);
  // Acks published just before are worth delivering; bounded, and skipped
  // while the server is away.
  if (nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
    (void)natsConnection_FlushTimeout(nc_, kCloseFlushMs);
  }
  natsConnection_Destroy(nc_);  // closes it and stops the reconnect loop
}

void Connection::Acknowledge(const std::string& reply_subject, std::string_view payload) {
  natsStatus s = natsConnection_Publish(nc_, reply_subject.c_str(), payload.data(), static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    log::Warn("pubsub.jetstream: acknowledgement not sent, the server will redeliver",
              {{"url", options_.url}, {"error", natsStatus_GetText(s)}});
  }
}

}  // namespace ofn::components::nats
