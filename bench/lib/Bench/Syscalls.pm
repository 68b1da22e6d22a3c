package Bench::Syscalls;
# The system calls a server's own threads make per connection, counted by
# `perf stat` on the syscall tracepoints of each of its threads while a
# load runs (counted in the kernel: the server runs at
# nearly its own speed, so that what depends on the load, such as how
# many children end at once, is as without; the children it starts are
# left out), so that the next change that adds one shows up in the
# report.  A separate run from the timed ones.
use strict;
use warnings;
use POSIX qw(WNOHANG);
use Bench;
use Exporter 'import';

our @EXPORT = qw(syscalls_available syscalls_during syscalls_line syscalls_table_head);

# The calls named in the report (those servers of this kind make, and
# what a change might add); every other call counts in "other", from the
# total of raw_syscalls:sys_enter.  (Each tracepoint costs perf time to
# set up: all of syscalls:sys_enter_* takes it 15 seconds.)
my @named = qw(accept accept4 clone clone3 vfork fork wait4 waitid close
  recvfrom sendto recvmsg sendmsg read write epoll_wait epoll_pwait
  epoll_pwait2 epoll_ctl pidfd_open rt_sigprocmask rt_sigreturn rt_sigaction
  rt_sigtimedwait newfstatat getsockname getpeername setsockopt getsockopt
  fcntl poll ppoll select pselect6 openat mmap munmap kill dup2 dup3
  close_range shutdown pipe2 execve brk);

my ($usable, @events);
# perf with the syscall tracepoints (Debian's linux-perf, and the right to
# use them: root, or perf_event_paranoid low enough).
sub syscalls_available {
  return $usable if defined $usable;
  system('perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1');
  $usable = $? == 0 ? 1 : 0;
  my ($dir) = grep { -d } map { "$_/events/syscalls" } '/sys/kernel/tracing', '/sys/kernel/debug/tracing';
  @events = ('raw_syscalls:sys_enter', map { "syscalls:sys_enter_$_" } grep { $dir && -d "$dir/sys_enter_$_" } @named);
  return $usable;
}

# perf stat -x, --per-thread's lines: { tid => { syscall => calls } },
# with "other" for what the named ones leave of the total.
sub parse_counts {
  my ($file) = @_;
  open my $fh, '<', $file or return {};
  my %by;
  while (<$fh>) {
    next unless /^.*-(\d+),(\d+),[^,]*,(?:syscalls:sys_enter_(\w+)|(raw_syscalls:sys_enter)),/;
    $by{$1}{ $3 // 'TOTAL' } += $2;
  }
  for my $t (values %by) {
    my $total = delete $t->{TOTAL} // 0;
    $total -= $_ for values %$t;
    $t->{other} = $total if $total > 0;
    delete $t->{$_} for grep { !$t->{$_} } keys %$t;
  }
  return \%by;
}

# Runs $load->() (which returns loadgen's result) while perf counts the
# server's system calls.  Returns { main => {call => n per connection},
# others => {...}, conns => completed } or undef without perf.
sub syscalls_during {
  my ($pid, $load) = @_;
  return undef unless syscalls_available();
  my $file = "$work/perf-stat.out";
  unlink $file;
  my $perf = fork // die "bench: fork: $!\n";
  if (!$perf) {
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    { exec 'perf', 'stat', '--no-inherit', '--per-thread', '-x,', '-o', $file, '-e', join(',', @events), '-p', $pid }
    POSIX::_exit(127);
  }
  sleep 3;    # perf attaches to every thread before the load starts
  my $r = $load->();
  kill 'INT', $perf;
  for (1 .. 100) { last if waitpid($perf, WNOHANG) == $perf; select undef, undef, undef, 0.1 }
  kill 'KILL', $perf;
  waitpid($perf, 0);
  my $n = $r->{completed} or return undef;
  my $by = parse_counts($file);
  my %out = (main => {}, others => {}, conns => $n);
  for my $tid (keys %$by) {
    my $where = $tid == $pid ? 'main' : 'others';
    $out{$where}{$_} += $by->{$tid}{$_} / $n for keys %{ $by->{$tid} };
  }
  return \%out;
}

sub total { my $t = 0; $t += $_ for values %{ $_[0] }; return $t }

# The calls made at least once in 20 connections, most frequent first.
sub top {
  my ($h) = @_;
  my @names = grep { $h->{$_} >= 0.05 } sort { $h->{$b} <=> $h->{$a} || $a cmp $b } keys %$h;
  return join(', ', map { sprintf '%s %.2f', $_, $h->{$_} } @names) || '-';
}

sub syscalls_table_head {
  my ($what) = @_;
  say_('');
  say_("System calls per connection of the server's own threads ($what; `perf stat` of the syscall tracepoints of each thread, children left out):");
  say_('');
  say_('| server | main thread | other threads | main thread: calls per connection (>= 0.05) | other threads: calls per connection |');
  say_('| --- | ---: | ---: | --- | --- |');
}

sub syscalls_line {
  my ($name, $s) = @_;
  return say_("| $name | - | - | perf (linux-perf) or its syscall tracepoints not available | |") unless $s;
  say_(sprintf '| %s | %.2f | %.2f | %s | %s |', $name, total($s->{main}), total($s->{others}), top($s->{main}), top($s->{others}));
}

1;
