#ifndef PORT_H
#define PORT_H
/* Port: a decimal number 0..65535 or a TCP service name from
   /etc/services.  Returns 0, or -1. */
int port_parse(const char *s, unsigned *port);
#endif
