/* internal.h: what server.c and guard.c share inside the HTTP layer; not
 * for other modules. */
#ifndef TS_HTTP_INTERNAL_H
#define TS_HTTP_INTERNAL_H

#include "http.h"

#include <microhttpd.h>

/* The connection guard: a cap on concurrent connections per peer address
 * (trusted proxies exempt), and deadlines for receiving requests, which
 * libmicrohttpd's idle timeout cannot give (it restarts at every byte). A
 * reaper thread shuts down the socket of a connection past its deadline;
 * libmicrohttpd then sees the connection fail and closes it itself. */
struct ts_conn_guard;

/* A new guard (owned by the caller; guard_free) with its reaper thread.
 * trusted is borrowed for the guard's lifetime (NULL: none). */
struct ts_conn_guard *ts_guard_new(const struct ts_cidr_list *trusted, unsigned per_addr);
void ts_guard_free(struct ts_conn_guard *g); /* after the daemon stopped; NULL is a no-op */
/* MHD_AcceptPolicyCallback: refuses a peer at its cap. */
enum MHD_Result ts_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_NotifyConnectionCallback: counts and tracks connections. */
void ts_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code);
/* The connection's request head is in: the rest must follow within
 * TS_HTTP_BODY_DEADLINE_S. */
void ts_guard_head_done(struct MHD_Connection *c);
/* The whole request is in: no deadline while it is served. */
void ts_guard_request_in(struct MHD_Connection *c);
/* A response was sent: the next request head must be in within
 * TS_HTTP_IDLE_TIMEOUT_S. */
void ts_guard_request_done(struct MHD_Connection *c);

#endif
