// Packet sockets for the L2 speaker: the one thing Node.js cannot do itself is read and
// write whole Ethernet frames on an interface (AF_PACKET, packet(7)). This addon does
// only that; every decision about what a frame means stays in TypeScript.
//
// Exports:
//   open(ifname, onFrame) -> handle   socket bound to ifname; onFrame(Buffer) per frame
//   send(handle, Buffer)  -> bytes    one whole frame (Ethernet header included)
//   close(handle)                     stops the reader, closes the socket; idempotent
//   stats(handle) -> { received, dropped }
//
// A reader thread per socket blocks in poll(2) and hands frames to the JavaScript thread
// through a thread-safe function, so the event loop never blocks on the socket. A kernel
// BPF filter keeps everything but ARP and ICMPv6 neighbour solicitations/advertisements
// out of user space: a busy LAN carries far more frames than the speaker cares about.
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

// Largest frame read: a jumbo frame. ARP and NDP frames are far smaller; anything longer
// is truncated by recv and rejected by the parser's own length checks.
#define FRAME_MAX 9216
// Frames queued for the JavaScript thread before new ones are dropped (and counted).
#define QUEUE_MAX 4096

typedef struct {
  int fd;
  int stop_fd;
  int ifindex;
  pthread_t reader;
  int reader_started;
  int closed;
  napi_threadsafe_function tsfn;
  atomic_ullong received;
  atomic_ullong dropped;
} packet_socket;

typedef struct {
  size_t length;
  uint8_t bytes[];
} frame;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  const char *code = strerrorname_np(err);
  napi_throw_error(env, code ? code : "EUNKNOWN", message);
  return NULL;
}

// Accept ARP (any) and IPv6 packets whose first header is ICMPv6 type 135 (neighbour
// solicitation) or 136 (neighbour advertisement); reject the rest in the kernel.
// Offsets: ethertype at 12; IPv6 next header at 14+6; ICMPv6 type at 14+40.
// Frames of a VLAN are rejected first: when the NIC strips the 802.1Q tag, Linux still
// hands them to a packet socket bound to the parent interface, untagged (the tag is only
// in the metadata), and answering them there would answer on the wrong network. The
// VLAN's own interface (eth0.100) sees them as its own, untagged.
static struct sock_filter NEIGHBOUR_FILTER[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 9),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 6, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, FRAME_MAX),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

static void *read_frames(void *arg) {
  packet_socket *s = arg;
  uint8_t *buffer = malloc(FRAME_MAX);
  if (!buffer) return NULL;
  for (;;) {
    struct pollfd fds[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->stop_fd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    // Drain what is there. An error (ENETDOWN when the link goes down, packet(7)) is
    // reported once per event by the socket and is not fatal: the link may come back.
    for (;;) {
      ssize_t n = recv(s->fd, buffer, FRAME_MAX, MSG_DONTWAIT);
      if (n < 0) break;
      frame *f = malloc(sizeof(frame) + (size_t)n);
      if (!f) {
        atomic_fetch_add(&s->dropped, 1);
        continue;
      }
      f->length = (size_t)n;
      memcpy(f->bytes, buffer, (size_t)n);
      atomic_fetch_add(&s->received, 1);
      if (napi_call_threadsafe_function(s->tsfn, f, napi_tsfn_nonblocking) != napi_ok) {
        free(f);
        atomic_fetch_add(&s->dropped, 1);
      }
    }
  }
  free(buffer);
  return NULL;
}

// Runs on the JavaScript thread for each queued frame (env is NULL while the function is
// being torn down: the frame is only freed).
static void deliver_frame(napi_env env, napi_value on_frame, void *context, void *data) {
  (void)context;
  frame *f = data;
  if (env != NULL && on_frame != NULL) {
    napi_value buffer, undefined;
    void *copy;
    if (napi_create_buffer_copy(env, f->length, f->bytes, &copy, &buffer) == napi_ok &&
        napi_get_undefined(env, &undefined) == napi_ok) {
      napi_call_function(env, undefined, on_frame, 1, &buffer, NULL);
    }
  }
  free(f);
}

static void close_socket(packet_socket *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->reader_started) {
    uint64_t one = 1;
    ssize_t ignored = write(s->stop_fd, &one, sizeof one);
    (void)ignored;
    pthread_join(s->reader, NULL);
  }
  if (s->tsfn) napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
  close(s->fd);
  close(s->stop_fd);
}

static void finalize_socket(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  packet_socket *s = data;
  close_socket(s);
  free(s);
}

static packet_socket *unwrap(napi_env env, napi_value handle) {
  void *data = NULL;
  if (napi_get_value_external(env, handle, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "EINVAL", "not a packet socket handle");
    return NULL;
  }
  return data;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char ifname[IF_NAMESIZE + 1] = {0};
  size_t len = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &len) != napi_ok || len == 0 ||
      len >= IF_NAMESIZE) {
    napi_throw_type_error(env, "EINVAL", "open(ifname, onFrame): ifname must be an interface name");
    return NULL;
  }
  napi_valuetype type;
  napi_typeof(env, argv[1], &type);
  if (type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "open(ifname, onFrame): onFrame must be a function");
    return NULL;
  }
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) return throw_errno(env, ifname, errno);

  // Created with protocol 0 so that no frame arrives before the filter is attached; the
  // bind below sets the protocol (packet(7): "If protocol is 0, no packets are received").
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sock_fprog program = {.len = sizeof NEIGHBOUR_FILTER / sizeof NEIGHBOUR_FILTER[0], .filter = NEIGHBOUR_FILTER};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "SO_ATTACH_FILTER", err);
  }
  // Our own replies are not requests to answer (Linux 4.20+; older kernels loop them
  // back, and the parser then sees our MAC as the sender and ignores them).
  int one = 1;
  (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  struct sockaddr_ll address = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
  if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, ifname, err);
  }
  int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "eventfd", err);
  }

  packet_socket *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    close(stop_fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->fd = fd;
  s->stop_fd = stop_fd;
  s->ifindex = (int)ifindex;
  napi_value name;
  napi_create_string_utf8(env, "ferrolb packet reader", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, QUEUE_MAX, 1, NULL, NULL, NULL, deliver_frame,
                                      &s->tsfn) != napi_ok) {
    close_socket(s);
    free(s);
    napi_throw_error(env, "EINVAL", "cannot create the frame queue");
    return NULL;
  }
  // The socket alone does not keep the process alive; the speaker's own timers do.
  napi_unref_threadsafe_function(env, s->tsfn);
  if (pthread_create(&s->reader, NULL, read_frames, s) != 0) {
    close_socket(s);
    free(s);
    return throw_errno(env, "pthread_create", EAGAIN);
  }
  s->reader_started = 1;
  napi_value handle;
  if (napi_create_external(env, s, finalize_socket, NULL, &handle) != napi_ok) {
    close_socket(s);
    free(s);
    napi_throw_error(env, "EINVAL", "cannot wrap the socket");
    return NULL;
  }
  return handle;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, "EINVAL", "send(handle, frame)");
    return NULL;
  }
  packet_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) {
    napi_throw_error(env, "EBADF", "send: socket is closed");
    return NULL;
  }
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "send: frame must be a Buffer");
    return NULL;
  }
  if (length < 14) {
    napi_throw_range_error(env, "EINVAL", "send: a frame needs at least an Ethernet header (14 bytes)");
    return NULL;
  }
  ssize_t sent = send(s->fd, data, length, MSG_DONTWAIT);
  if (sent < 0) return throw_errno(env, "send", errno);
  napi_value result;
  napi_create_int64(env, sent, &result);
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", "close(handle)");
    return NULL;
  }
  packet_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  close_socket(s);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", "stats(handle)");
    return NULL;
  }
  packet_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  napi_value result, received, dropped, ifindex;
  napi_create_object(env, &result);
  napi_create_int64(env, (int64_t)atomic_load(&s->received), &received);
  napi_create_int64(env, (int64_t)atomic_load(&s->dropped), &dropped);
  napi_create_int32(env, s->ifindex, &ifindex);
  napi_set_named_property(env, result, "received", received);
  napi_set_named_property(env, result, "dropped", dropped);
  napi_set_named_property(env, result, "ifindex", ifindex);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
