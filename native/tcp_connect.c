// TCP connections for BGP with the socket options that must be set before the SYN,
// which Node.js's net module cannot set: the TTL (hop limit) and the TCP MD5 key.
// - TTL: eBGP to a directly connected peer sends with TTL 1, so the session cannot reach
//   a peer more than one hop away by accident; iBGP and eBGP multi-hop send with 255
//   (the convention FRR and BIRD follow; docs/BGP.md "TTL"). A router that enforces
//   GTSM (RFC 5082) checks the TTL of the SYN already.
// - TCP MD5 (RFC 2385): every segment is signed with the key, the SYN included.
// This addon creates the socket, sets the options, connects on a thread of its own (a
// blocking connect; a thread per attempt keeps libuv's small pool free for the file
// system and crypto while a peer drops our SYNs), and hands back the connected file
// descriptor, which JavaScript wraps in a net.Socket.
//
// Export: connect({ host, port, localAddress?, key?, ttl?, timeoutMs }, callback(err, fd))
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
  struct sockaddr_storage peer;
  socklen_t peer_length;
  struct sockaddr_storage local;
  socklen_t local_length;
  unsigned char key[TCP_MD5SIG_MAXKEYLEN];
  size_t key_length;
  int ttl; // 0: the system's default
  int timeout_ms;
  int fd;
  int err;
  const char *step;
  napi_threadsafe_function done;
} connect_request;

// Parses a numeric IPv4 or IPv6 address (no name lookups: peers are addresses).
static int parse_address(const char *text, int port, struct sockaddr_storage *out, socklen_t *length) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *length = sizeof *v4;
    return 0;
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    *length = sizeof *v6;
    return 0;
  }
  return -1;
}

// Sets the unicast TTL (IPv4) or hop limit (IPv6) of every segment, the SYN included.
static int set_ttl(int fd, int family, int ttl) {
  if (family == AF_INET6) return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
  return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
}

static void run_connect(connect_request *r) {
  r->fd = socket(r->peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->fd < 0) {
    r->err = errno;
    r->step = "socket";
    return;
  }
  if (r->ttl > 0 && set_ttl(r->fd, r->peer.ss_family, r->ttl) < 0) {
    r->err = errno;
    r->step = r->peer.ss_family == AF_INET6 ? "setsockopt(IPV6_UNICAST_HOPS)" : "setsockopt(IP_TTL)";
    goto fail;
  }
  if (r->key_length > 0) {
    // RFC 2385: every segment to and from this peer carries an MD5 digest keyed with
    // the password; the kernel signs and checks them once the key is set for the peer.
    struct tcp_md5sig md5;
    memset(&md5, 0, sizeof md5);
    memcpy(&md5.tcpm_addr, &r->peer, r->peer_length);
    md5.tcpm_keylen = (uint16_t)r->key_length;
    memcpy(md5.tcpm_key, r->key, r->key_length);
    if (setsockopt(r->fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof md5) < 0) {
      r->err = errno;
      r->step = "setsockopt(TCP_MD5SIG)";
      goto fail;
    }
  }
  if (r->local_length > 0 && bind(r->fd, (struct sockaddr *)&r->local, r->local_length) < 0) {
    r->err = errno;
    r->step = "bind";
    goto fail;
  }
  // A blocking connect gives up after SO_SNDTIMEO (tcp(7)); a peer that drops our SYNs
  // (a wrong password looks exactly like that) then fails in bounded time.
  struct timeval timeout = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};
  setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (connect(r->fd, (struct sockaddr *)&r->peer, r->peer_length) < 0) {
    r->err = errno == EINPROGRESS ? ETIMEDOUT : errno;
    r->step = "connect";
    goto fail;
  }
  struct timeval none = {0, 0};
  setsockopt(r->fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return;
fail:
  close(r->fd);
  r->fd = -1;
}

static void *connect_thread(void *data) {
  connect_request *r = data;
  run_connect(r);
  // finish_connect runs on the JavaScript thread and frees the request.
  if (napi_call_threadsafe_function(r->done, r, napi_tsfn_blocking) != napi_ok) {
    if (r->fd >= 0) close(r->fd);
  }
  napi_release_threadsafe_function(r->done, napi_tsfn_release);
  return NULL;
}

static void finish_connect(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  connect_request *r = data;
  if (env == NULL) { // the environment is going away: nobody will take the descriptor
    if (r->fd >= 0) close(r->fd);
    free(r);
    return;
  }
  napi_value global, args[2];
  napi_get_global(env, &global);
  if (r->fd < 0) {
    char message[160];
    int err = r->err ? r->err : ECANCELED;
    snprintf(message, sizeof message, "%s: %s", r->step ? r->step : "connect", strerror(err));
    napi_value text, code;
    napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
    const char *name = strerrorname_np(err);
    napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, text, &args[0]);
    napi_set_named_property(env, args[0], "code", code);
    napi_get_undefined(env, &args[1]);
  } else {
    napi_get_null(env, &args[0]);
    napi_create_int32(env, r->fd, &args[1]);
  }
  napi_call_function(env, global, callback, 2, args, NULL);
  free(r);
}

static int string_property(napi_env env, napi_value object, const char *name, char *out, size_t size) {
  napi_value value;
  napi_valuetype type;
  size_t length = 0;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return -1;
  napi_typeof(env, value, &type);
  if (type == napi_undefined) return 0;
  if (type != napi_string || napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) return -1;
  return (int)length;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t0, t1;
  if (argc < 2 || napi_typeof(env, argv[0], &t0) != napi_ok || t0 != napi_object || napi_typeof(env, argv[1], &t1) != napi_ok ||
      t1 != napi_function) {
    napi_throw_type_error(env, "EINVAL", "connect(options, callback)");
    return NULL;
  }
  connect_request *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, "ENOMEM", "connect: out of memory");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1] = {0}, local[INET6_ADDRSTRLEN + 1] = {0};
  napi_value v;
  int32_t port = 0, timeout = 5000;
  if (string_property(env, argv[0], "host", host, sizeof host) <= 0 ||
      napi_get_named_property(env, argv[0], "port", &v) != napi_ok || napi_get_value_int32(env, v, &port) != napi_ok ||
      port < 1 || port > 65535 || parse_address(host, port, &r->peer, &r->peer_length) < 0) {
    free(r);
    napi_throw_type_error(env, "EINVAL", "connect: host must be a numeric IP address and port 1-65535");
    return NULL;
  }
  int local_length = string_property(env, argv[0], "localAddress", local, sizeof local);
  if (local_length < 0 || (local_length > 0 && parse_address(local, 0, &r->local, &r->local_length) < 0)) {
    free(r);
    napi_throw_type_error(env, "EINVAL", "connect: localAddress must be a numeric IP address");
    return NULL;
  }
  if (napi_get_named_property(env, argv[0], "timeoutMs", &v) == napi_ok) napi_get_value_int32(env, v, &timeout);
  r->timeout_ms = timeout > 0 ? timeout : 5000;
  napi_valuetype type;
  int32_t ttl = 0;
  if (napi_get_named_property(env, argv[0], "ttl", &v) == napi_ok && napi_typeof(env, v, &type) == napi_ok && type != napi_undefined &&
      (napi_get_value_int32(env, v, &ttl) != napi_ok || ttl < 1 || ttl > 255)) {
    free(r);
    napi_throw_range_error(env, "EINVAL", "connect: ttl must be 1-255");
    return NULL;
  }
  r->ttl = ttl;
  void *key = NULL;
  size_t key_length = 0;
  if (napi_get_named_property(env, argv[0], "key", &v) == napi_ok && napi_typeof(env, v, &type) == napi_ok && type != napi_undefined &&
      (napi_get_buffer_info(env, v, &key, &key_length) != napi_ok || key_length == 0 || key_length > TCP_MD5SIG_MAXKEYLEN)) {
    free(r);
    napi_throw_range_error(env, "EINVAL", "connect: key must be a Buffer of 1-80 bytes (TCP_MD5SIG_MAXKEYLEN)");
    return NULL;
  }
  if (key_length > 0) memcpy(r->key, key, key_length);
  r->key_length = key_length;
  napi_value name;
  napi_create_string_utf8(env, "ferrolb tcp connect", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, finish_connect, &r->done) != napi_ok) {
    free(r);
    napi_throw_error(env, "EINVAL", "connect: cannot create the completion callback");
    return NULL;
  }
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int rc = pthread_create(&thread, &attr, connect_thread, r);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    napi_release_threadsafe_function(r->done, napi_tsfn_abort);
    free(r);
    napi_throw_error(env, strerrorname_np(rc), "connect: cannot start a thread");
    return NULL;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {{"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL}};
  napi_define_properties(env, exports, 1, functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
