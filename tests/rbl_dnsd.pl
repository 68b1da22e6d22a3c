#!/usr/bin/perl
# A tiny authoritative DNS responder for the rblsmtpd tests: UDP (and TCP,
# for truncated answers) on one loopback address and port.  Never meant for
# any other address.
#
#   rbl_dnsd.pl ZONEFILE LOGFILE [ADDRESS [PORT]]
#
# Prints "port N" on stdout once listening.  Every query is appended to
# LOGFILE as "name TYPE" (lower case, no trailing dot).  ZONEFILE lines:
#   NAME TXT STRING...     one TXT record, one character-string per STRING;
#                          \DDD is a decimal byte, \s a space
#   NAME A 1.2.3.4         one A record
#   NAME SERVFAIL|REFUSED  that rcode for every query of NAME
#   NAME SILENT            never answer
#   NAME SLOW SECONDS      answer (as per the other lines) after a delay
#   NAME TRUNCATE          UDP answers have TC set and no records; TCP full
#   NAME STALL             UDP answers have TC set; TCP queries never answered
# A UDP answer over 512 bytes is sent truncated (TC, no records), as real
# servers do without EDNS.  The string "" in a TXT line is an empty string.
# Names not in the file get NXDOMAIN; a known name without records of the
# asked type gets an empty NOERROR answer.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(inet_aton);

my ($zonefile, $logfile, $addr, $port) = @ARGV;
die "usage: rbl_dnsd.pl ZONEFILE LOGFILE [ADDRESS [PORT]]\n" unless $logfile;
$addr //= '127.0.0.1';
$port //= 0;
die "rbl_dnsd.pl: loopback only\n"
  unless $addr =~ /^127\.\d+\.\d+\.\d+$/ || $addr eq '::1';

my (%rr, %flag, %slow);
open my $zf, '<', $zonefile or die "rbl_dnsd.pl: $zonefile: $!\n";
while (<$zf>) {
  chomp;
  next if /^\s*(#|$)/;
  my ($name, $type, @data) = split ' ';
  $name = lc $name;
  $name =~ s/\.$//;
  if ($type eq 'TXT') {
    my @strings = map { my $s = $_ eq '""' ? '' : $_; $s =~ s/\\s/ /g;
                        $s =~ s/\\(\d{1,3})/chr($1)/ge; $s } @data;
    push @{$rr{$name}{16}}, join '', map { chr(length $_) . $_ } @strings;
  } elsif ($type eq 'A') {
    push @{$rr{$name}{1}}, inet_aton($data[0]);
  } elsif ($type eq 'SLOW') {
    $slow{$name} = $data[0];
    $rr{$name} //= {};
  } else {
    $flag{$name} = $type;
    $rr{$name} //= {};
  }
}
close $zf;

my $family = $addr eq '::1' ? 'IO::Socket::IP' : 'IO::Socket::INET';
eval "require $family" or die $@;
my $udp = $family->new(LocalAddr => $addr, LocalPort => $port, Proto => 'udp')
  or die "rbl_dnsd.pl: udp bind: $@\n";
$port = $udp->sockport;
my $tcp = $family->new(LocalAddr => $addr, LocalPort => $port, Proto => 'tcp',
                       Listen => 5, ReuseAddr => 1)
  or die "rbl_dnsd.pl: tcp bind: $@\n";
open my $log, '>>', $logfile or die "rbl_dnsd.pl: $logfile: $!\n";
$log->autoflush(1);
$| = 1;
print "port $port\n";

my %typename = (1 => 'A', 16 => 'TXT', 28 => 'AAAA');

# Parse the question; returns (name, type, question bytes) or ().
sub question {
  my ($q) = @_;
  return () if length $q < 17;
  my ($pos, @labels) = (12);
  while (1) {
    return () if $pos >= length $q;
    my $len = ord substr $q, $pos, 1;
    $pos++;
    last if $len == 0;
    return () if $len > 63 || $pos + $len > length $q;
    push @labels, substr $q, $pos, $len;
    $pos += $len;
  }
  return () if $pos + 4 > length $q;
  my ($type) = unpack 'n', substr $q, $pos, 2;
  return (lc join('.', @labels), $type, substr($q, 12, $pos + 4 - 12));
}

sub answer {
  my ($q, $viatcp) = @_;
  my ($name, $type, $qsec) = question($q) or return;
  print $log "$name ", ($typename{$type} // $type), ($viatcp ? " tcp" : ""), "\n";
  my $id = substr $q, 0, 2;
  my $rd = ord(substr $q, 2, 1) & 1;
  my $f = $flag{$name} // '';
  return if $f eq 'SILENT';
  sleep $slow{$name} if $slow{$name};
  my ($rcode, $tc, @records) = (0, 0);
  if (!exists $rr{$name}) { $rcode = 3 }
  elsif ($f eq 'SERVFAIL') { $rcode = 2 }
  elsif ($f eq 'REFUSED') { $rcode = 5 }
  elsif ($f eq 'STALL' && $viatcp) { return }
  elsif (($f eq 'TRUNCATE' || $f eq 'STALL') && !$viatcp) { $tc = 1 }
  else { @records = @{$rr{$name}{$type} // []} }
  my $head = $id . chr(0x84 | ($tc << 1) | $rd) . chr(0x80 | $rcode)
    . pack('nnnn', 1, scalar @records, 0, 0);
  my $body = join '', map { "\xc0\x0c" . pack('nnNn', $type, 1, 60, length $_) . $_ } @records;
  # As a real server does: too big for plain UDP, ask for TCP.
  if (!$viatcp && 12 + length($qsec) + length($body) > 512) {
    substr($head, 2, 1) = chr(0x86 | $rd);
    substr($head, 6, 2) = pack 'n', 0;
    $body = '';
  }
  return $head . $qsec . $body;
}

my $sel = IO::Select->new($udp, $tcp);
my @held;                               # stalled TCP connections
my $parent = getppid;
while (getppid == $parent) {            # never outlive the test
  for my $s ($sel->can_read(1)) {
    if ($s == $udp) {
      my $peer = $udp->recv(my $q, 4096) // next;
      my $a = answer($q, 0);
      $udp->send($a, 0, $peer) if defined $a;
    } else {
      my $c = $tcp->accept or next;
      $c->read(my $lenb, 2) == 2 or next;
      my $n = unpack 'n', $lenb;
      $c->read(my $q, $n) == $n or next;
      my $a = answer($q, 1);
      if (!defined $a) { push @held, $c; next }
      print $c pack('n', length $a) . $a;
      close $c;
    }
  }
}
