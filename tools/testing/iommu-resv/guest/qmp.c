// SPDX-License-Identifier: GPL-2.0
/*
 * qmp SOCKET [-w SECONDS] COMMAND...: a minimal QMP client for the guest
 * tests (busybox has none). Connects to QEMU's QMP UNIX socket (retrying
 * for up to SECONDS, default 0, while it is not there yet), negotiates
 * capabilities, sends each COMMAND (one JSON object) in turn and prints
 * each answer (events are skipped) on one line.
 * Exit 0: every command returned; 1: one failed (an "error" answer, the
 * rest are not sent); 2: no connection or the connection broke.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static FILE *in;
static int fd;

static char *reply(void)
{
	static char *line;
	static size_t size;

	for (;;) {
		ssize_t len = getline(&line, &size, in);

		/* a line without its newline: cut by a timeout or a close */
		if (len <= 0 || line[len - 1] != '\n') {
			fprintf(stderr, "qmp: connection closed or timed out\n");
			exit(2);
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (!strstr(line, "\"event\":"))
			return line;
	}
}

/* All of @buf, without SIGPIPE if QEMU has closed the socket. */
static void send_all(const char *buf, size_t len)
{
	ssize_t k;

	while (len) {
		k = send(fd, buf, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "qmp: send: %s\n", k ? strerror(errno) : "nothing sent");
			exit(2);
		}
		buf += k;
		len -= k;
	}
}

static int command(const char *cmd)
{
	char *r;

	send_all(cmd, strlen(cmd));
	send_all("\n", 1);
	r = reply();
	puts(r);
	fflush(stdout);
	return strncmp(r, "{\"return\":", 10) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 120 };
	int i = 2, wait_s = 0;
	time_t end;

	if (argc < 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: qmp SOCKET [-w SECONDS] COMMAND...\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	if (argc > 3 && !strcmp(argv[2], "-w")) {
		wait_s = atoi(argv[3]);
		i = 4;
	}
	end = time(NULL) + wait_s;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("qmp: socket");
			return 2;
		}
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			break;
		close(fd);
		if (time(NULL) >= end) {
			fprintf(stderr, "qmp: cannot connect to %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		usleep(100000);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	in = fdopen(fd, "r");
	if (!in)
		return 2;
	if (!strstr(reply(), "\"QMP\"")) {
		fprintf(stderr, "qmp: no QMP greeting\n");
		return 2;
	}
	if (command("{\"execute\": \"qmp_capabilities\"}"))
		return 1;
	for (; i < argc; i++)
		if (command(argv[i]))
			return 1;
	return 0;
}
