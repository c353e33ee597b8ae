/* peer.h: IP addresses as text — membership in a configured list, the first hop of a
 * forwarding header. */
#include "peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

/* Binary equality of two textual IPs, so "::1" and "0:0::1" match. */
static int same_ip(const char *a, const char *b) {
  unsigned char x[16], y[16];
  if (inet_pton(AF_INET, a, x) == 1) return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
  if (inet_pton(AF_INET6, a, x) == 1) return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
  return 0;
}

int peer_ip_in_list(const char *ip, const char *list) {
  if (!list || !*list || !*ip) return 0;
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

int peer_forwarded_first(const char *v, char *out, size_t outlen) {
  if (!v) return -1;
  while (isspace((unsigned char)*v)) v++;
  size_t n = strcspn(v, ",");
  while (n > 0 && isspace((unsigned char)v[n - 1])) n--;
  if (n == 0 || n >= 64 || n >= outlen) return -1;
  unsigned char bin[16];
  memcpy(out, v, n);
  out[n] = 0;
  if (inet_pton(AF_INET, out, bin) != 1 && inet_pton(AF_INET6, out, bin) != 1) return -1;
  return 0;
}
