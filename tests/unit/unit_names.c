#include <string.h>
#include "tap.h"
#include "names.h"

int main(void)
{
  char out[NAMES_MAX + 1], raw[400];
  struct ip_addr lo, other;
  names_safe("Mail-1.Example_x.COM", 20, out);
  tap_is_str(out, "mail-1.example_x.com", "lower case, safe bytes kept");
  names_safe("a b:\n\377", 6, out);
  tap_is_str(out, "a\\040b\\072\\012\\377", "others as backslash octal");
  memset(raw, '%', sizeof raw);
  tap_ok(names_safe(raw, sizeof raw, out) == NAMES_MAX && strlen(out) == NAMES_MAX,
         "cut at 255 raw bytes, bounded output");
  ip_set_v4(&lo, 127, 0, 0, 1);
  ip_parse("192.0.2.1", &other);
  tap_ok(names_reverse(&lo, out) == 1 && out[0], "127.0.0.1 has a name");
  tap_ok(names_confirm(out, &lo), "its name maps back (paranoid passes)");
  tap_ok(!names_confirm(out, &other), "not to another address");
  tap_ok(names_remote(&lo, 1, out) == 1, "names_remote paranoid");
  return tap_done();
}
