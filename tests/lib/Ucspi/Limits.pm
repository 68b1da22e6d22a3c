# Helpers of the tests of tcpserver's per-client limits (tests/limits_*.t):
# clients from a chosen loopback address, a service that says hello and
# holds its connection until EOF, the refusal as the client sees it, and
# waits on the server's -v log.
#
#   connect_from(SRC, PORT[, DST])  a TCP socket bound to SRC (any 127/8
#       address on lo, or an IPv6 one in a private namespace), connected
#       to DST (default 127.0.0.1) PORT; undef when that fails (5 s).
#   hold_program(FILE)  the program (a list) of tcpserver that appends a
#       line to FILE (when FILE is defined), writes "hi N\n" (N the value
#       of TCPCONNNUM, "unset" when absent), then reads its stdin to EOF.
#   hello(SOCK)  the first line the program wrote ("hi N\n"), or undef
#       within 5 s.
#   refusal(SRC, PORT[, DST])  connect from SRC, read to EOF (5 s):
#       (bytes, eof) where eof is true when the server closed.
#   wait_log(S, REGEX[, SECONDS])  wait (default 5 s) until the log of
#       start_server's S matches REGEX; true when it does.
#   runs(FILE)  how many times hold_program(FILE) ran.
#
# And the checks made of them (Test::More assertions):
#   served(S, SRC, WANT, NAME[, DST])  a client from SRC to DST of
#       start_server's S is greeted "hi WANT\n" (one test); returns the
#       socket, held open until done_with.
#   refused(S, SRC, MSG, NAME[, DST])  a client from SRC is told exactly
#       MSG, then EOF, and a new "limit" line appears in the log (three
#       tests); returns that line's text after "tcpserver: limit ".
#   done_with(S, SOCKETS...)  close the sockets; every child ends (one
#       test); the server is stopped.
package Ucspi::Limits;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::IP;
use Socket qw(SOCK_STREAM);
use Test::More ();
use Ucspi;

our @EXPORT = qw(connect_from hold_program hello refusal wait_log runs served refused done_with);

sub connect_from {
  my ($src, $port, $dst) = @_;
  return IO::Socket::IP->new(LocalHost => $src, PeerHost => $dst // '127.0.0.1',
    PeerPort => $port, Type => SOCK_STREAM, Timeout => 5);
}

sub hold_program {
  my ($file) = @_;
  my $log = defined $file ? "echo run >> '$file'; " : '';
  return ('/bin/sh', '-c', $log . 'echo "hi ${TCPCONNNUM-unset}"; exec cat >/dev/null');
}

sub hello { my ($sock) = @_; return line_within($sock, 5) }

sub refusal {
  my ($src, $port, $dst) = @_;
  my $c = connect_from($src, $port, $dst) or return ('(connect failed)', 0);
  my $eof;
  my $got = read_to_eof($c, 5, \$eof);
  close $c;
  return ($got, $eof);
}

sub wait_log {
  my ($s, $re, $seconds) = @_;
  return wait_until($seconds // 5, sub { slurp($s->{log}) =~ $re });
}

sub runs {
  my ($file) = @_;
  return scalar(() = slurp($file) =~ /^run$/mg);
}

sub served {
  my ($s, $src, $want, $name, $dst) = @_;
  my $c = connect_from($src, $s->{port}, $dst);
  my $got = $c ? hello($c) : undef;
  Test::More::is($got, "hi $want\n", $name) or Test::More::diag(show_text(slurp($s->{log})));
  return $c;
}

sub limit_lines { my ($s) = @_; return slurp($s->{log}) =~ /^tcpserver: limit (.*)$/mg }

sub refused {
  my ($s, $src, $msg, $name, $dst) = @_;
  my $before = () = limit_lines($s);
  my ($got, $eof) = refusal($src, $s->{port}, $dst);
  Test::More::is(show($got), show($msg), "$name: told exactly that");
  Test::More::ok($eof, "$name: EOF");
  Test::More::ok(wait_until(5, sub { (() = limit_lines($s)) > $before }), "$name: a limit line");
  return (limit_lines($s))[$before] // '';
}

sub done_with {
  my ($s, @socks) = @_;
  close $_ for @socks;
  Test::More::ok(log_settled($s), 'children ended');
  stop_server($s);
}

1;
