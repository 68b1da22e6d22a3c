#include <errno.h>
#include "errtext.h"

struct reason { int err; const char *text; };

static const struct reason reasons[] = {
  { EINTR, "interrupted system call" }, { ENOMEM, "out of memory" },
  { ENOENT, "file does not exist" }, { ETXTBSY, "text busy" },
  { EIO, "input/output error" }, { EEXIST, "file already exists" },
  { ETIMEDOUT, "timed out" }, { EINPROGRESS, "operation in progress" },
  { EAGAIN, "temporary failure" }, { EPIPE, "broken pipe" },
  { EPERM, "permission denied" }, { EACCES, "access denied" },
  { ENXIO, "device not configured" }, { EPROTO, "protocol error" },
  { EISDIR, "is a directory" }, { ESRCH, "no such process" },
  { E2BIG, "argument list too long" }, { ENOEXEC, "exec format error" },
  { EBADF, "file descriptor not open" }, { ECHILD, "no child processes" },
  { EDEADLK, "operation would cause deadlock" }, { EFAULT, "bad address" },
  { EBUSY, "device busy" }, { EXDEV, "cross-device link" },
  { ENODEV, "device does not support operation" },
  { ENOTDIR, "not a directory" }, { EINVAL, "invalid argument" },
  { ENFILE, "system cannot open more files" },
  { EMFILE, "process cannot open more files" }, { ENOTTY, "not a tty" },
  { EFBIG, "file too big" }, { ENOSPC, "out of disk space" },
  { ESPIPE, "unseekable descriptor" }, { EROFS, "read-only file system" },
  { EMLINK, "too many links" }, { EDOM, "input out of range" },
  { ERANGE, "output out of range" },
  { EALREADY, "operation already in progress" },
  { ENOTSOCK, "not a socket" },
  { EDESTADDRREQ, "destination address required" },
  { EMSGSIZE, "message too long" }, { EPROTOTYPE, "incorrect protocol type" },
  { ENOPROTOOPT, "protocol not available" },
  { EPROTONOSUPPORT, "protocol not supported" },
  { ESOCKTNOSUPPORT, "socket type not supported" },
  { EOPNOTSUPP, "operation not supported" },
  { EPFNOSUPPORT, "protocol family not supported" },
  { EAFNOSUPPORT, "address family not supported" },
  { EADDRINUSE, "address already used" },
  { EADDRNOTAVAIL, "address not available" }, { ENETDOWN, "network down" },
  { ENETUNREACH, "network unreachable" }, { ENETRESET, "network reset" },
  { ECONNABORTED, "connection aborted" }, { ECONNRESET, "connection reset" },
  { ENOBUFS, "out of buffer space" }, { EISCONN, "already connected" },
  { ENOTCONN, "not connected" }, { ESHUTDOWN, "socket shut down" },
  { ECONNREFUSED, "connection refused" }, { ELOOP, "symbolic link loop" },
  { ENAMETOOLONG, "file name too long" }, { EHOSTDOWN, "host down" },
  { EHOSTUNREACH, "host unreachable" }, { ENOTEMPTY, "directory not empty" },
  { EUSERS, "too many users" }, { EDQUOT, "disk quota exceeded" },
  { ESTALE, "stale NFS file handle" },
  /* The rest of 0.88's list that Linux defines. */
  { 0, "no error" }, { ENOTBLK, "not a block device" },
  { ETOOMANYREFS, "too many references" },
  { EREMOTE, "too many levels of remote in path" },
  { ENOLCK, "no locks available" }, { ENOSYS, "system call not available" },
  { ENOSTR, "not a stream device" }, { ETIME, "timer expired" },
  { ENOSR, "out of stream resources" },
  { ENOMSG, "no message of desired type" }, { EBADMSG, "bad message type" },
  { EIDRM, "identifier removed" }, { ENONET, "machine not on network" },
  { ENOLINK, "link severed" }, { EADV, "advertise error" },
  { ESRMNT, "srmount error" }, { ECOMM, "communication error" },
  { EMULTIHOP, "multihop attempted" }, { EREMCHG, "remote address changed" },
};

const char *errtext(int err)
{
  for (unsigned i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].err == err) return reasons[i].text;
  return "unknown error";
}
