#include "crlf.h"

size_t crlf_add(const char *in, size_t n, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; ++i) {
    if (in[i] == '\n') out[o++] = '\r';
    out[o++] = in[i];
  }
  return o;
}

size_t crlf_fix(const char *in, size_t n, char *out, char *last)
{
  size_t o = 0;
  char prev = *last;
  for (size_t i = 0; i < n; ++i) {
    if (in[i] == '\n' && prev != '\r') out[o++] = '\r';
    out[o++] = prev = in[i];
  }
  *last = prev;
  return o;
}

size_t crlf_del(const char *in, size_t n, char *out, int *held)
{
  size_t o = 0;
  int cr = *held;
  for (size_t i = 0; i < n; ++i) {
    if (cr && in[i] != '\n') out[o++] = '\r';
    cr = in[i] == '\r';
    if (!cr) out[o++] = in[i];
  }
  *held = cr;
  return o;
}

size_t crlf_del_end(char *out, int *held)
{
  if (!*held) return 0;
  *held = 0;
  out[0] = '\r';
  return 1;
}
