#!/usr/bin/perl
# What makes one client for -C: an IPv6 /64 by default (two addresses of
# one /64 are one client, of two /64s two), -L /128 and -L /56 change it,
# -L 24 groups IPv4 addresses of one /24; on a dual-stack listener (::)
# an IPv4 client is counted as IPv4 (its /32, not the /64 of
# ::ffff:0:0/96, which would make all of IPv4 one client), and
# ::ffff:127.0.0.1 is the same client as 127.0.0.1.  In a private network
# namespace, with documentation addresses on lo.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Ucspi::Limits;
use Test::More;

need_ours('tcpserver');
need_private_net();
for my $a (qw(2001:db8:1::1 2001:db8:1::2 2001:db8:2::1 2001:db8:1:ff::1 2001:db8:1:100::1)) {
  system('ip', '-6', 'addr', 'add', "$a/128", 'dev', 'lo', 'nodad') == 0
    or skip_all("unable to add $a to lo");
}

my @prog = ('/bin/sh', '-c', 'echo "hi ${TCPCONNNUM-unset} $TCPREMOTEIP"; exec cat >/dev/null');

sub server { return start_server(ours('tcpserver'), ['-v', qw(-HRl x), @_, @prog]) }

{
  my $s = server(qw(-C 1 :: 0));
  my $a = served($s, '2001:db8:1::1', '1 2001:db8:1::1', '/64: first address served', '::1');
  refused($s, '2001:db8:1::2', '', '/64: another address of the same /64 refused', '::1');
  my ($line) = slurp($s->{log}) =~ /^(tcpserver: limit .*)$/m;
  like($line // '', qr/^tcpserver: limit 0 x:\[::1\]:\d+ :\[2001:db8:1::2\]::\d+ client 1\/1$/, '/64: the limit line names the address');
  like(slurp($s->{log}), qr/^tcpserver: ok \d+ x:\[::1\]:\d+ :\[2001:db8:1::1\]::\d+$/m, '/64: addresses written as in the ok line');
  my $b = served($s, '2001:db8:2::1', '1 2001:db8:2::1', '/64: an address of another /64 served', '::1');
  my $c = served($s, '2001:db8:1:ff::1', '1 2001:db8:1:ff::1', '/64: 2001:db8:1:ff::1 is another /64 too', '::1');

  # IPv4 on the dual-stack listener.
  my $v4 = served($s, '127.0.0.1', '1 127.0.0.1', 'dual stack: 127.0.0.1 served, TCPREMOTEIP folded', '127.0.0.1');
  refused($s, '::ffff:127.0.0.1', '', 'dual stack: ::ffff:127.0.0.1 is the same client', '::ffff:127.0.0.1');
  my ($l4) = (slurp($s->{log}) =~ /^(tcpserver: limit .*)$/mg)[-1];
  like($l4 // '', qr/^tcpserver: limit 0 x:127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+ client 1\/1$/, 'dual stack: logged as IPv4');
  refused($s, '127.0.0.1', '', 'dual stack: 127.0.0.1 again refused', '127.0.0.1');
  my $v4b = served($s, '127.0.0.2', '1 127.0.0.2', 'dual stack: 127.0.0.2 is another client (IPv4 /32, not the /64 of ::ffff:0:0)', '127.0.0.1');
  done_with($s, $a, $b, $c, $v4, $v4b);
}

{
  my $s = server(qw(-L /128 -C 1 :: 0));
  my $a = served($s, '2001:db8:1::1', '1 2001:db8:1::1', '-L /128: first address served', '::1');
  my $b = served($s, '2001:db8:1::2', '1 2001:db8:1::2', '-L /128: another address of the /64 is another client', '::1');
  refused($s, '2001:db8:1::1', '', '-L /128: the first address again refused', '::1');
  done_with($s, $a, $b);
}

{
  my $s = server(qw(-L /56 -C 1 :: 0));
  my $a = served($s, '2001:db8:1::1', '1 2001:db8:1::1', '-L /56: first address served', '::1');
  refused($s, '2001:db8:1:ff::1', '', '-L /56: another /64 of the same /56 refused', '::1');
  my $b = served($s, '2001:db8:1:100::1', '1 2001:db8:1:100::1', '-L /56: another /56 served', '::1');
  done_with($s, $a, $b);
}

{
  my $s = server(qw(-L 24 -C 1 127.0.0.1 0));
  my $a = served($s, '127.0.0.1', '1 127.0.0.1', '-L 24: 127.0.0.1 served', '127.0.0.1');
  refused($s, '127.0.0.2', '', '-L 24: 127.0.0.2 is the same client', '127.0.0.1');
  my ($line) = slurp($s->{log}) =~ /^(tcpserver: limit .*)$/m;
  like($line // '', qr/^tcpserver: limit 0 x:127\.0\.0\.1:\d+ :127\.0\.0\.2::\d+ client 1\/1$/, '-L 24: the limit line names the address, not the /24');
  my $b = served($s, '127.0.1.1', '1 127.0.1.1', '-L 24: 127.0.1.1 is another client', '127.0.0.1');
  done_with($s, $a, $b);
}

{
  my $s = server(qw(-L 24/48 -C 2 :: 0));
  my $a = served($s, '127.0.0.1', '1 127.0.0.1', '-L 24/48: 127.0.0.1 served', '127.0.0.1');
  my $b = served($s, '127.0.0.9', '2 127.0.0.9', '-L 24/48: 127.0.0.9 is the same client (TCPCONNNUM=2)', '127.0.0.1');
  my $c = served($s, '2001:db8:1::1', '1 2001:db8:1::1', '-L 24/48: IPv6 first served', '::1');
  my $d = served($s, '2001:db8:1:100::1', '2 2001:db8:1:100::1', '-L 24/48: another /64 of the /48 is the same client', '::1');
  refused($s, '2001:db8:1:ff::1', '', '-L 24/48: a third from the /48 refused', '::1');
  done_with($s, $a, $b, $c, $d);
}

done_testing();
