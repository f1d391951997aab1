// The membership heartbeats' sender, on a thread of its own, so that a speaker whose
// JavaScript thread is busy (a plan over thousands of services, a garbage collection, a
// starved CPU) keeps telling its peers it is alive, while a speaker that is really gone
// (killed, frozen with SIGSTOP, cut off) falls silent at once (docs/L2.md "The
// heartbeat runway").
//
// The JavaScript thread builds and signs every datagram (src/speaker/membership/runway.ts);
// this thread only sends them, on a fixed grid of slots: slot n goes out at start + n *
// interval, to every peer, if a datagram was loaded for it. The JavaScript thread loads
// the next slot at each of its ticks and, now and then, the slots of the next second or
// so: its runway. While it is on time, every slot carries a fresh datagram; when it
// stalls, the runway keeps the heartbeats going until it runs out; then silence, which
// the peers read as death. The slot number is the heartbeat's sequence number, so
// sequences only grow, and each slot is sent at most once.
//
// Exports:
//   open(bindAddress, intervalMs) -> handle  a UDP socket (IPv6, dual-stack) bound to
//                                            bindAddress and an ephemeral port; starts the thread
//   peers(handle, addresses[], port)         where every slot goes (IPv4 as ::ffff:a.b.c.d)
//   nextSlot(handle) -> number               the first slot not yet sent
//   load(handle, firstSlot, datagrams[])     datagrams for firstSlot, firstSlot + 1, ...;
//                                            slots already sent, or beyond the ring, are ignored
//   clear(handle)                            forgets every loaded slot (nothing more is sent)
//   close(handle)                            stops the thread, closes the socket; idempotent
//   stats(handle) -> { sent, errors, skipped }
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Slots held at once: more than any runway (runway.ts keeps about 25 at 40 ms).
#define RING 128
#define MAX_PEERS 1024
#define MAX_DATAGRAM 65507

typedef struct {
  int64_t slot; // -1: empty
  size_t length;
  uint8_t *bytes;
} entry;

typedef struct {
  int fd;
  int64_t interval_ns;
  struct timespec start;
  pthread_t thread;
  int thread_started;
  int stopping;
  int closed;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int64_t next_slot;
  entry ring[RING];
  struct sockaddr_in6 *peers;
  size_t peer_count;
  uint64_t sent, errors, skipped;
} heartbeat_sender;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  const char *code = strerrorname_np(err);
  napi_throw_error(env, code ? code : "EUNKNOWN", message);
  return NULL;
}

static struct timespec slot_time(const heartbeat_sender *s, int64_t slot) {
  int64_t ns = (int64_t)s->start.tv_nsec + slot * s->interval_ns;
  struct timespec t = {.tv_sec = s->start.tv_sec + (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
  return t;
}

static int64_t elapsed_slots(const heartbeat_sender *s) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t ns = (int64_t)(now.tv_sec - s->start.tv_sec) * 1000000000 + (now.tv_nsec - s->start.tv_nsec);
  return ns < 0 ? 0 : ns / s->interval_ns;
}

static void *send_slots(void *arg) {
  heartbeat_sender *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    struct timespec due = slot_time(s, s->next_slot);
    int rc = pthread_cond_timedwait(&s->wake, &s->lock, &due);
    if (s->stopping) break;
    if (rc != ETIMEDOUT) continue; // woken to stop, or spuriously: wait for the slot again
    // More than a slot late (the process was frozen or starved): slots whose time has
    // passed are not sent late, the current one is.
    int64_t current = elapsed_slots(s);
    if (current > s->next_slot) {
      s->skipped += (uint64_t)(current - s->next_slot);
      s->next_slot = current;
    }
    entry *e = &s->ring[s->next_slot % RING];
    if (e->slot == s->next_slot) {
      for (size_t i = 0; i < s->peer_count; i++) {
        if (sendto(s->fd, e->bytes, e->length, MSG_DONTWAIT, (struct sockaddr *)&s->peers[i], sizeof s->peers[i]) < 0) s->errors++;
        else s->sent++;
      }
    }
    s->next_slot++;
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static void clear_ring(heartbeat_sender *s) {
  for (int i = 0; i < RING; i++) {
    free(s->ring[i].bytes);
    s->ring[i] = (entry){.slot = -1, .length = 0, .bytes = NULL};
  }
}

static void close_sender(heartbeat_sender *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->thread_started) {
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
  }
  close(s->fd);
  clear_ring(s);
  free(s->peers);
  s->peers = NULL;
  s->peer_count = 0;
}

static void finalize_sender(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  heartbeat_sender *s = data;
  close_sender(s);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  free(s);
}

static heartbeat_sender *unwrap(napi_env env, napi_value handle) {
  void *data = NULL;
  if (napi_get_value_external(env, handle, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "EINVAL", "not a heartbeat sender handle");
    return NULL;
  }
  heartbeat_sender *s = data;
  if (s->closed) {
    napi_throw_error(env, "EBADF", "the heartbeat sender is closed");
    return NULL;
  }
  return s;
}

// The handle of a function whose only argument it is (nextSlot, clear, stats).
static heartbeat_sender *only_handle(napi_env env, napi_callback_info info, const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", usage);
    return NULL;
  }
  return unwrap(env, argv[0]);
}

// "::", "2001:db8::1" or "198.18.0.1" (as ::ffff:198.18.0.1) into an IPv6 socket address.
static int parse_address(const char *text, uint16_t port, struct sockaddr_in6 *out) {
  memset(out, 0, sizeof *out);
  out->sin6_family = AF_INET6;
  out->sin6_port = htons(port);
  struct in_addr v4;
  if (inet_pton(AF_INET, text, &v4) == 1) {
    out->sin6_addr.s6_addr[10] = 0xff;
    out->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->sin6_addr.s6_addr[12], &v4, 4);
    return 1;
  }
  return inet_pton(AF_INET6, text, &out->sin6_addr) == 1;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char bind_text[INET6_ADDRSTRLEN + 1] = {0};
  size_t len = 0;
  double interval_ms = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], bind_text, sizeof bind_text, &len) != napi_ok ||
      napi_get_value_double(env, argv[1], &interval_ms) != napi_ok || !(interval_ms >= 1 && interval_ms <= 60000)) {
    napi_throw_type_error(env, "EINVAL", "open(bindAddress, intervalMs): an address and an interval of 1-60000 ms");
    return NULL;
  }
  struct sockaddr_in6 local;
  if (!parse_address(bind_text, 0, &local)) {
    napi_throw_type_error(env, "EINVAL", "open: bindAddress is not an IP address");
    return NULL;
  }
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_INET6)", errno);
  int off = 0;
  (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, bind_text, err);
  }
  heartbeat_sender *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->fd = fd;
  s->interval_ns = (int64_t)(interval_ms * 1e6);
  for (int i = 0; i < RING; i++) s->ring[i].slot = -1;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&s->lock, NULL);
  clock_gettime(CLOCK_MONOTONIC, &s->start);
  if (pthread_create(&s->thread, NULL, send_slots, s) != 0) {
    finalize_sender(env, s, NULL);
    return throw_errno(env, "pthread_create", EAGAIN);
  }
  s->thread_started = 1;
  // Named for `top -H` and /proc/PID/task/*/comm (bench/footprint.ts splits CPU by thread).
  pthread_setname_np(s->thread, "ferrolb-beats");
  napi_value handle;
  if (napi_create_external(env, s, finalize_sender, NULL, &handle) != napi_ok) {
    finalize_sender(env, s, NULL);
    napi_throw_error(env, "EINVAL", "cannot wrap the heartbeat sender");
    return NULL;
  }
  return handle;
}

static napi_value js_peers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, "EINVAL", "peers(handle, addresses, port)");
    return NULL;
  }
  heartbeat_sender *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  uint32_t count = 0, port = 0;
  bool is_array = false;
  napi_is_array(env, argv[1], &is_array);
  if (!is_array || napi_get_array_length(env, argv[1], &count) != napi_ok || count > MAX_PEERS ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port == 0 || port > 65535) {
    napi_throw_type_error(env, "EINVAL", "peers: at most 1024 addresses and a port of 1-65535");
    return NULL;
  }
  struct sockaddr_in6 *peers = calloc(count ? count : 1, sizeof *peers);
  if (!peers) return throw_errno(env, "peers", ENOMEM);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    char text[INET6_ADDRSTRLEN + 1] = {0};
    size_t len = 0;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, text, sizeof text, &len) != napi_ok || !parse_address(text, (uint16_t)port, &peers[i])) {
      free(peers);
      napi_throw_type_error(env, "EINVAL", "peers: every address must be an IPv4 or IPv6 address");
      return NULL;
    }
  }
  pthread_mutex_lock(&s->lock);
  free(s->peers);
  s->peers = peers;
  s->peer_count = count;
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static napi_value js_next_slot(napi_env env, napi_callback_info info) {
  heartbeat_sender *s = only_handle(env, info, "nextSlot(handle)");
  if (!s) return NULL;
  pthread_mutex_lock(&s->lock);
  int64_t next = s->next_slot;
  pthread_mutex_unlock(&s->lock);
  napi_value result;
  napi_create_int64(env, next, &result);
  return result;
}

static napi_value js_load(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, "EINVAL", "load(handle, firstSlot, datagrams)");
    return NULL;
  }
  heartbeat_sender *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  int64_t first = 0;
  uint32_t count = 0;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (napi_get_value_int64(env, argv[1], &first) != napi_ok || first < 0 || !is_array ||
      napi_get_array_length(env, argv[2], &count) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "load: firstSlot must be a slot number and datagrams an array of Buffers");
    return NULL;
  }
  // Copied outside the lock: the sending thread waits only for the swap.
  entry fresh[RING];
  uint32_t n = 0;
  for (uint32_t i = 0; i < count && n < RING; i++) {
    napi_value item;
    void *data;
    size_t length;
    if (napi_get_element(env, argv[2], i, &item) != napi_ok || napi_get_buffer_info(env, item, &data, &length) != napi_ok ||
        length == 0 || length > MAX_DATAGRAM) {
      for (uint32_t j = 0; j < n; j++) free(fresh[j].bytes);
      napi_throw_type_error(env, "EINVAL", "load: every datagram must be a non-empty Buffer of at most 65507 bytes");
      return NULL;
    }
    uint8_t *copy = malloc(length);
    if (!copy) {
      for (uint32_t j = 0; j < n; j++) free(fresh[j].bytes);
      return throw_errno(env, "load", ENOMEM);
    }
    memcpy(copy, data, length);
    fresh[n++] = (entry){.slot = first + i, .length = length, .bytes = copy};
  }
  uint8_t *stale[RING];
  uint32_t stale_count = 0;
  pthread_mutex_lock(&s->lock);
  for (uint32_t i = 0; i < n; i++) {
    // A slot already sent stays sent; one a ring's length ahead would overwrite a nearer one.
    if (fresh[i].slot < s->next_slot || fresh[i].slot >= s->next_slot + RING) {
      stale[stale_count++] = fresh[i].bytes;
      continue;
    }
    entry *e = &s->ring[fresh[i].slot % RING];
    if (e->bytes) stale[stale_count++] = e->bytes;
    *e = fresh[i];
  }
  pthread_mutex_unlock(&s->lock);
  for (uint32_t i = 0; i < stale_count; i++) free(stale[i]);
  return NULL;
}

static napi_value js_clear(napi_env env, napi_callback_info info) {
  heartbeat_sender *s = only_handle(env, info, "clear(handle)");
  if (!s) return NULL;
  pthread_mutex_lock(&s->lock);
  clear_ring(s);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "EINVAL", "close(handle)");
    return NULL;
  }
  close_sender(data);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  heartbeat_sender *s = only_handle(env, info, "stats(handle)");
  if (!s) return NULL;
  pthread_mutex_lock(&s->lock);
  uint64_t sent = s->sent, errors = s->errors, skipped = s->skipped;
  pthread_mutex_unlock(&s->lock);
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_int64(env, (int64_t)sent, &v);
  napi_set_named_property(env, result, "sent", v);
  napi_create_int64(env, (int64_t)errors, &v);
  napi_set_named_property(env, result, "errors", v);
  napi_create_int64(env, (int64_t)skipped, &v);
  napi_set_named_property(env, result, "skipped", v);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peers", NULL, js_peers, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nextSlot", NULL, js_next_slot, NULL, NULL, NULL, napi_enumerable, NULL},
      {"load", NULL, js_load, NULL, NULL, NULL, napi_enumerable, NULL},
      {"clear", NULL, js_clear, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
