#ifndef ERRTEXT_H
#define ERRTEXT_H
/* The reference's short reason texts ("file does not exist"), part of the
   interface of every message: never strerror's wording. */
const char *errtext(int err);
#endif
