#!/usr/bin/perl
# rblsmtpd's exempt path (RBLSMTPD set and empty) runs the SMTP server
# before libc starts (src/lib/prestart.h): the program is exec'd as the
# very next system call, found as main would find it, and everything else
# (bad options, a program that cannot run, a client not exempted) is
# still main's, with main's messages and exit codes.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Ucspi;
use Test::More;

need_ours('rblsmtpd');
my $rbl = ours('rblsmtpd');
my $dir = tmpdir();

sub rbl { my ($env, @args) = @_; return run_cmd([$rbl, @args], env => { TCPREMOTEIP => '192.0.2.7', %$env }, in => "QUIT\r\n") }

# What main would do, the same from the fast start.
my $r = rbl({ RBLSMTPD => '' }, qw(-r bl.example.org -t 5 echo exempt));
is("$r->{status}:$r->{out}", "0:exempt\n", 'exempt: the program runs, with its arguments');
$r = rbl({ RBLSMTPD => '', PATH => "/nonexistent:$dir:/bin:/usr/bin" }, 'sh', '-c', 'echo found');
is($r->{out}, "found\n", 'exempt: the program is found through PATH');
$r = rbl({ RBLSMTPD => '' }, qw(-bZ echo x));
is("$r->{status}:$r->{err}", "100:rblsmtpd: illegal option -- Z\nrblsmtpd: usage: rblsmtpd [ -b ] [ -R ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]\n",
   'exempt, unknown option: main\'s usage');
$r = rbl({ RBLSMTPD => '' }, qw(-r));
is($r->{status}, 100, 'exempt, option without its argument: usage');
$r = rbl({ RBLSMTPD => '' }, '--', '-r');
like($r->{err}, qr/^rblsmtpd: fatal: unable to run -r: file does not exist$/, '"--" ends the options, as in main');
spew("$dir/text", "not a program\n");
chmod 0644, "$dir/text";
$r = rbl({ RBLSMTPD => '' }, "$dir/text");
is("$r->{status}:$r->{err}", "111:rblsmtpd: fatal: unable to run $dir/text: access denied\n", 'exempt, not executable: main\'s error');
$r = rbl({ RBLSMTPD => 'go away' }, qw(-t 0 echo x));
is("$r->{status}:$r->{out}", "0:451 go away\r\n", 'RBLSMTPD with a text: blocked, as before');

# The system calls: none of libc's start-up between the two execs.
SKIP: {
  skip 'no strace', 3 unless have_tool('strace');
  skip 'a sanitizer build starts libc first', 3 if $ENV{UCSPI_SANITIZED};
  skip 'x86-64 only', 3 unless `uname -m` =~ /^x86_64/;
  my $trace = "$dir/strace";
  my $calls = sub {
    my ($env, @args) = @_;
    run_cmd(['strace', '-f', '-qq', '-o', $trace, $rbl, @args], env => { TCPREMOTEIP => '192.0.2.7', %$env });
    my @calls = map { /^\d+\s+(\w+)\(/ ? $1 : () } split /\n/, slurp($trace);
    return join ' ', @calls[0 .. 1];
  };
  is($calls->({ RBLSMTPD => '' }, qw(-r bl.example.org /bin/true)), 'execve execve', 'exempt: the next system call runs the program');
  is($calls->({ RBLSMTPD => '', PATH => '/nonexistent:/bin' }, 'true'), 'execve execve', 'exempt: the PATH search before libc');
  isnt($calls->({}, '/bin/true'), 'execve execve', 'not exempt: libc starts first');
}

done_testing();
