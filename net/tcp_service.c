/*
 * The accepting side of a TCP service (limpet/net.h): each connection a
 * listener accepts gets state of its own and the service's callbacks, and
 * a close leaves no callback behind; and the zero-copy echo queue that
 * echo and netbench send received data back with.
 *
 * A connection's state is allocated here and freed here: after the
 * service's err() (lwIP's error callback is ours, conn_err(), which calls
 * it), or in limpet_tcp_close().  The service's part follows a small
 * header that names the service, for conn_err().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <limpet.h>
#include <limpet/net.h>

#include <lwip/tcp.h>

/* limpet_tcp_close()'s retries of a FIN lwIP had no memory for: every
 * second (lwIP's slow timer ticks every 500 ms), ten times. */
#define CLOSE_RETRY_TICKS	2
#define CLOSE_RETRIES		10

struct held {
	const struct limpet_tcp_service *svc;
	/* The service's state, aligned as malloc() would align it. */
	_Alignas(max_align_t) unsigned char conn[];
};

static struct held *
held_of(void *conn)
{
	return (struct held *)((unsigned char *)conn - offsetof(struct held, conn));
}

/* lwIP's error callback of every accepted connection: the service's,
 * then the state goes. */
static void
conn_err(void *arg, err_t err)
{
	struct held *h;

	if (arg == NULL)
		return;
	h = held_of(arg);
	if (h->svc->err != NULL)
		h->svc->err(arg, err);
	free(h);
}

/* A listener's arg is its struct limpet_tcp_service (see listen below). */
static err_t
accept_conn(void *arg, struct tcp_pcb *pcb, err_t err)
{
	const struct limpet_tcp_service *svc = arg;
	struct held *h;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	/* No callback is installed yet, so the abort calls none. */
	if ((h = calloc(1, sizeof(*h) + svc->conn_size)) == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	h->svc = svc;
	tcp_arg(pcb, h->conn);
	tcp_recv(pcb, svc->recv);
	tcp_sent(pcb, svc->sent);
	tcp_err(pcb, conn_err);
	if (svc->poll != NULL)
		tcp_poll(pcb, svc->poll, svc->poll_interval);
	tcp_nagle_disable(pcb);
	if (svc->accepted != NULL)
		svc->accepted(h->conn, pcb);
	return ERR_OK;
}

enum limpet_result
limpet_tcp_listen(uint16_t port, const struct limpet_tcp_service *svc)
{
	struct tcp_pcb *pcb, *lpcb;
	err_t err;

	if (port == 0)
		return LIMPET_EINVAL;
	if ((pcb = tcp_new_ip_type(IPADDR_TYPE_ANY)) == NULL)
		return LIMPET_ENOMEM;
	if ((err = tcp_bind(pcb, IP_ANY_TYPE, port)) != ERR_OK) {
		tcp_close(pcb);
		return err == ERR_USE ? LIMPET_EADDRINUSE : LIMPET_EINVAL;
	}
	if ((lpcb = tcp_listen(pcb)) == NULL) {
		tcp_close(pcb);
		return LIMPET_ENOMEM;
	}
	/* lwIP hands the listener's arg to its accept callback.  svc is only
	 * read, through a const pointer again, in accept_conn(). */
	tcp_arg(lpcb, (void *)svc);
	tcp_accept(lpcb, accept_conn);
	return LIMPET_OK;
}

/* The poll callback of a connection whose FIN found no memory: try again,
 * and reset it after CLOSE_RETRIES tries.  arg counts them. */
static err_t
close_retry(void *arg, struct tcp_pcb *pcb)
{
	uintptr_t tries = (uintptr_t)arg + 1;

	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	if (tries >= CLOSE_RETRIES) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	tcp_arg(pcb, (void *)tries);
	return ERR_OK;
}

void
limpet_tcp_close(struct tcp_pcb *pcb)
{
	void *conn = pcb->callback_arg;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	if (conn != NULL)
		free(held_of(conn));
	if (tcp_close(pcb) != ERR_OK)
		tcp_poll(pcb, close_retry, CLOSE_RETRY_TICKS);
}

void
limpet_tcp_echo_add(struct limpet_tcp_echo *e, struct pbuf *p)
{
	if (e->q == NULL)
		e->q = p;
	else
		pbuf_cat(e->q, p);
}

enum limpet_result
limpet_tcp_echo_write(struct limpet_tcp_echo *e, struct tcp_pcb *pcb, bool *wrote)
{
	struct pbuf *p = e->q;
	uint32_t off = e->written;

	if (wrote != NULL)
		*wrote = false;
	while (p != NULL) {
		uint16_t left, len, room;
		err_t err;

		if (off >= p->len) {
			off -= p->len;
			p = p->next;
			continue;
		}
		if ((room = tcp_sndbuf(pcb)) == 0)
			break;
		left = (uint16_t)(p->len - off);
		len = left < room ? left : room;
		err = tcp_write(pcb, (uint8_t *)p->payload + off, len,
		    len < left || p->next != NULL ? TCP_WRITE_FLAG_MORE : 0);
		if (err == ERR_MEM)
			break;		/* the queue is full: sent() calls again */
		if (err != ERR_OK)
			return LIMPET_EIO;
		e->written += len;
		off += len;
		if (wrote != NULL)
			*wrote = true;
	}
	return LIMPET_OK;
}

void
limpet_tcp_echo_acked(struct limpet_tcp_echo *e, struct tcp_pcb *pcb, u16_t len)
{
	/* Those bytes are acknowledged: lwIP no longer points at them. */
	e->q = pbuf_free_header(e->q, len);
	e->written -= len;
	tcp_recved(pcb, len);
}

void
limpet_tcp_echo_free(struct limpet_tcp_echo *e)
{
	if (e->q != NULL)
		pbuf_free(e->q);
	e->q = NULL;
	e->written = 0;
}
