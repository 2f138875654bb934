/*
 * The accepting side of a TCP service (limpet/net.h): each connection a
 * listener accepts gets state of its own and the service's callbacks, and
 * a close leaves no callback behind.  What the service does with the
 * bytes stays in the service.
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

	if ((pcb = tcp_new_ip_type(IPADDR_TYPE_V4)) == NULL)
		return LIMPET_ENOMEM;
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
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
