/*
 * extract_report.h - at exit, what a process wrote into the extractions it
 * used, named on stderr.
 */
#ifndef KILN_EXTRACT_REPORT_H
#define KILN_EXTRACT_REPORT_H

#include "extract_set.h"
#include "kpack.h"

/* Remembers the extraction of the set at path, and when its stamp was
   written; files: check its packed files too, not only its folders. */
void kiln_extract_watch(const kp_pack *pack, const kiln_top_set *set,
                        const char *path, int files);
/* In the process that watched them: names, on stderr, the files written
   into the watched extractions since their stamp; then forgets them. */
void kiln_extract_report(void);

#endif
