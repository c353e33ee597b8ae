/* Who is on the other end of a connection, as text: the trusted-proxy lists of
 * the services (HOSO_TRUSTED_PROXIES) and of the gateway
 * (HOSO_GATEWAY_TRUSTED_PROXIES, its metrics list), and the client address
 * behind them, X-Forwarded-For read from the right past the proxies we trust
 * (nginx's real_ip_recursive). */
#ifndef HOSO_PEER_H
#define HOSO_PEER_H

#include <stddef.h>

/* True when ip (text form) is one of the comma-separated addresses of list,
 * compared as binary addresses ("::1" equals "0:0::1"). Behind
 * HOSO_TRUSTED_PROXIES, HOSO_GATEWAY_TRUSTED_PROXIES and
 * HOSO_GATEWAY_METRICS_ALLOW. */
int peer_ip_in_list(const char *ip, const char *list);

/* The client address of a request from `peer` (the socket peer, text form)
 * carrying the forwarding header `xff` (NULL when absent), into out:
 * - when the peer may not forward (peer_forwards = 0), the peer itself: anyone
 * else could claim any address;
 * - else the header's elements from the right: each one a proxy in `trusted`
 * appended, so the first (right-most) element that is not in `trusted` is the
 * client. A client can prepend whatever it likes, never append, so only the
 * right end is believed. An element that is not an IP address ends the walk at
 * the last address believed (the peer, or the proxy that passed the junk on).
 * When every element is trusted, the left-most one. Returns 0, or -1 when out
 * is too small (then out is ""). */
int peer_client_addr(const char *peer, int peer_forwards, const char *xff,
                     const char *trusted, char *out, size_t n);

#endif
