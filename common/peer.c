/* peer.h: IP lists compared as binary addresses, and X-Forwarded-For read from the right past
 * trusted proxies. Pure: shared by the gateway and the services' runtime, unit-tested. */
#include "peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Binary equality of two textual IPs, so "::1" and "0:0::1" match. */
static int same_ip(const char *a, const char *b) {
  unsigned char x[16], y[16];
  if (inet_pton(AF_INET, a, x) == 1) return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
  if (inet_pton(AF_INET6, a, x) == 1) return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
  return 0;
}

int peer_ip_in_list(const char *ip, const char *list) {
  if (!ip || !list || !*list || !*ip) return 0;
  char item[64];
  for (const char *s = list; *s;) {
    while (*s == ',' || isspace((unsigned char)*s)) s++;
    size_t n = strcspn(s, ",");
    size_t m = n;
    while (m > 0 && isspace((unsigned char)s[m - 1])) m--;
    if (m > 0 && m < sizeof item) {
      memcpy(item, s, m);
      item[m] = 0;
      if (same_ip(ip, item)) return 1;
    }
    s += n;
  }
  return 0;
}

static int is_ip(const char *s) {
  unsigned char bin[16];
  return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

static int put(char *out, size_t n, const char *s, size_t len) {
  if (len >= n) {
    if (n) out[0] = 0;
    return -1;
  }
  memcpy(out, s, len);
  out[len] = 0;
  return 0;
}

int peer_client_addr(const char *peer, int peer_forwards, const char *xff, const char *trusted,
                    char *out, size_t n) {
  if (!peer) peer = "";
  if (put(out, n, peer, strlen(peer)) != 0) return -1;
  if (!peer_forwards || !xff) return 0;
  /* Elements from the right: [start, end) of the part not yet read. */
  const char *end = xff + strlen(xff);
  while (end > xff) {
    const char *start = end;
    while (start > xff && start[-1] != ',') start--;
    const char *a = start, *b = end;
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    char el[64];
    size_t len = (size_t)(b - a);
    if (len == 0 || len >= sizeof el) return 0; /* junk: keep the last address believed */
    memcpy(el, a, len);
    el[len] = 0;
    if (!is_ip(el)) return 0;
    if (put(out, n, el, len) != 0) return -1;
    if (!peer_ip_in_list(el, trusted)) return 0; /* the first untrusted one is the client */
    end = start > xff ? start - 1 : xff;
  }
  return 0;
}
