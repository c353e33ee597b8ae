/* Who is on the other end of a connection, as text: the trusted-proxy lists of the services
 * (HOSO_TRUSTED_PROXIES) and of the gateway (HOSO_GATEWAY_TRUSTED_PROXIES, its metrics list)
 * and the X-Forwarded-For they believe. */
#ifndef HOSO_PEER_H
#define HOSO_PEER_H

#include <stddef.h>

/* True when ip (text form) is one of the comma-separated addresses of list, compared as binary
 * addresses ("::1" equals "0:0::1"). */
int peer_ip_in_list(const char *ip, const char *list);
/* The first element of a forwarding header (X-Forwarded-For) copied to out when it is an IP
 * address: 0, else -1. */
int peer_forwarded_first(const char *v, char *out, size_t outlen);

#endif
