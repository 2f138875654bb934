/*
 * The accepting side of a TCP service (limpet/net.h): each connection a
 * listener accepts gets state of its own and the service's callbacks, and
 * a close leaves no callback behind; and the zero-copy echo queue that
 * echo and netbench send received data back with.
 */
#include <stdlib.h>

#include <limpet.h>
#include <limpet/net.h>

#include <lwip/tcp.h>

/* A listener's arg is its struct limpet_tcp_service (see listen below). */
static err_t
accept_conn(void *arg, struct tcp_pcb *pcb, err_t err)
{
	const struct limpet_tcp_service *svc = arg;
	void *conn;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	/* No callback is installed yet, so the abort calls none. */
	if ((conn = calloc(1, svc->conn_size)) == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	tcp_arg(pcb, conn);
	tcp_recv(pcb, svc->recv);
	tcp_sent(pcb, svc->sent);
	tcp_err(pcb, svc->err);
	if (svc->poll != NULL)
		tcp_poll(pcb, svc->poll, svc->poll_interval);
	tcp_nagle_disable(pcb);
	if (svc->accepted != NULL)
		svc->accepted(conn, pcb);
	return ERR_OK;
}

int
limpet_tcp_listen(uint16_t port, const struct limpet_tcp_service *svc)
{
	struct tcp_pcb *pcb, *lpcb;

	if ((pcb = tcp_new_ip_type(IPADDR_TYPE_ANY)) == NULL)
		return LIMPET_ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		tcp_close(pcb);
		return LIMPET_EINVAL;
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

err_t
limpet_tcp_close(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	return tcp_close(pcb);
}

void
limpet_tcp_echo_add(struct limpet_tcp_echo *e, struct pbuf *p)
{
	if (e->q == NULL)
		e->q = p;
	else
		pbuf_cat(e->q, p);
}

err_t
limpet_tcp_echo_write(struct limpet_tcp_echo *e, struct tcp_pcb *pcb, int *wrote)
{
	struct pbuf *p = e->q;
	uint32_t off = e->written;

	if (wrote != NULL)
		*wrote = 0;
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
			return err;
		e->written += len;
		off += len;
		if (wrote != NULL)
			*wrote = 1;
	}
	return ERR_OK;
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
