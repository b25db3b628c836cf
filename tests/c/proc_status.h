/* One field of /proc/self/status in KiB (VmRSS, VmHWM, ...), -1 when absent. Shared by the
 * soak test and the benchmark harness. */
#ifndef AICHAT_PROC_STATUS_H
#define AICHAT_PROC_STATUS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long proc_status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = atol(line + n + 1);
    if (f) fclose(f);
    return kb;
}

#endif
