#!/usr/bin/perl
# A minimal SMTP server speaking UCSPI-TLS, for tests/tls_starttls.t:
# under tlsserver -n it offers STARTTLS, asks for TLS with the letter in
# $ASK ('y' or 'Y', default 'Y'), then talks through SSLREADFD and
# SSLWRITEFD.  Every line it gets and the TLS state go to $TRACE:
# "tls VARS" with the variables 'Y' brought back, "clear CMD" or
# "secure CMD" per command, "eof" when its input ended.
use strict;
use warnings;

open my $in, '<&=', 0 or die;
open my $out, '>&=', 1 or die;
my $secure = 0;
open my $trace, '>>', $ENV{TRACE} or die "TRACE: $!";
$trace->autoflush(1);

sub say_line { my $l = "$_[0]\r\n"; syswrite($out, $l) }
# A line read a byte at a time: nothing is read ahead of STARTTLS.
sub get_line {
  my $l = '';
  while (1) {
    my $n = sysread($in, my $c, 1);
    return undef unless $n;
    $l .= $c;
    return $l =~ s/\r?\n\z//r if $c eq "\n";
  }
}

sub starttls {
  my $ask = $ENV{ASK} || 'Y';
  say_line('220 ready to start TLS');
  open my $ctl, '+<&=', $ENV{SSLCTLFD} or die "SSLCTLFD: $!";
  syswrite($ctl, $ask);
  my $vars = '';
  if ($ask eq 'Y') {
    while (sysread($ctl, my $buf, 4096)) { $vars .= $buf; last if $vars =~ /\0\0\z/ }
    $vars =~ s/\0\0\z//;
    print $trace "tls ", join(' ', split /\0/, $vars), "\n";
  } else {
    print $trace "tls\n";
  }
  open $in, '<&=', $ENV{SSLREADFD} or die "SSLREADFD: $!";
  open $out, '>&=', $ENV{SSLWRITEFD} or die "SSLWRITEFD: $!";
  $secure = 1;
}

say_line('220 test ESMTP');
while (defined(my $l = get_line())) {
  print $trace ($secure ? 'secure ' : 'clear '), "$l\n";
  my $cmd = uc((split ' ', $l)[0] // '');
  if ($cmd eq 'EHLO') { say_line('250-test'); say_line($secure ? '250 8BITMIME' : '250 STARTTLS') }
  elsif ($cmd eq 'STARTTLS' && !$secure) { starttls() }
  elsif ($cmd eq 'DATA') {
    say_line('354 go ahead');
    while (defined(my $d = get_line())) { last if $d eq '.' }
    say_line('250 queued');
  }
  elsif ($cmd eq 'QUIT') { say_line('221 bye'); exit 0 }
  else { say_line('250 ok') }
}
print $trace "eof\n";
