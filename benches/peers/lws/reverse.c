/*
 * dumb-increment-protocol on libwebsockets (callback API): every message is answered
 * reversed (bytewise; for the ASCII load that equals wsloop's grapheme reversal, and a
 * trailing '\n' stays at the end). Replies are queued per connection and written one per
 * SERVER_WRITEABLE, as lws wants; rx flow control pauses a connection whose queue is long.
 *
 * Build: gcc -O2 -o peer-lws reverse.c -lwebsockets      Run: peer-lws PORT
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUED 64

struct msg {
	struct msg *next;
	size_t len;
	int binary;
	unsigned char buf[]; /* LWS_PRE headroom, then the payload */
};

struct session {
	unsigned char *rx; /* the message being reassembled */
	size_t rx_len, rx_cap;
	struct msg *head, *tail;
	int queued, paused;
};

static volatile int interrupted;

static void reverse_into(unsigned char *dst, const unsigned char *src, size_t len, int binary)
{
	size_t body = len;
	if (!binary && body && src[body - 1] == '\n') {
		body--;
		if (body && src[body - 1] == '\r')
			body--;
	}
	for (size_t i = 0; i < body; i++)
		dst[i] = src[body - 1 - i];
	memcpy(dst + body, src + body, len - body);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct session *s = user;
	struct msg *m;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		break;
	case LWS_CALLBACK_RECEIVE:
		if (lws_is_first_fragment(wsi))
			s->rx_len = 0;
		if (s->rx_len + len > s->rx_cap) {
			size_t cap = s->rx_cap ? s->rx_cap : 4096;
			while (cap < s->rx_len + len)
				cap *= 2;
			unsigned char *p = realloc(s->rx, cap);
			if (!p)
				return -1;
			s->rx = p;
			s->rx_cap = cap;
		}
		memcpy(s->rx + s->rx_len, in, len);
		s->rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			break;
		m = malloc(sizeof(*m) + LWS_PRE + s->rx_len);
		if (!m)
			return -1;
		m->next = NULL;
		m->len = s->rx_len;
		m->binary = lws_frame_is_binary(wsi);
		reverse_into(m->buf + LWS_PRE, s->rx, s->rx_len, m->binary);
		if (s->tail)
			s->tail->next = m;
		else
			s->head = m;
		s->tail = m;
		if (++s->queued >= MAX_QUEUED && !s->paused) {
			lws_rx_flow_control(wsi, 0);
			s->paused = 1;
		}
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		m = s->head;
		if (!m)
			break;
		if (lws_write(wsi, m->buf + LWS_PRE, m->len,
			      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)m->len)
			return -1;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		free(m);
		s->queued--;
		if (s->paused && s->queued < MAX_QUEUED / 2) {
			lws_rx_flow_control(wsi, 1);
			s->paused = 0;
		}
		if (s->head)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLOSED:
		while ((m = s->head)) {
			s->head = m->next;
			free(m);
		}
		s->tail = NULL;
		free(s->rx);
		s->rx = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "dumb-increment-protocol", callback, sizeof(struct session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *context;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = atoi(argv[1]);
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "lws_create_context failed\n");
		return 1;
	}
	printf("listening on http://127.0.0.1:%s/\n", argv[1]);
	fflush(stdout);
	while (!interrupted && lws_service(context, 0) >= 0)
		;
	lws_context_destroy(context);
	return 0;
}
