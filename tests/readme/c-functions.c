/* The README's list of functions (example `c-functions`), compiled after the header: a
   declaration that differs from the header's is an error (conflicting types), and main takes the
   address of each function the list names (functions.inc, written by scripts/test-readme.sh), so
   one the library does not export fails the link. main prints aichat_version(). */
#include <stdio.h>
#include "aichat.h"

@README@

#if !defined(AICHAT_VERSION_MAJOR) || !defined(AICHAT_VERSION_MINOR) || !defined(AICHAT_VERSION_PATCH)
#error "the README says aichat.h defines AICHAT_VERSION_MAJOR, _MINOR and _PATCH"
#endif

typedef void (*AnyFunction)(void);

int main(void) {
    static const AnyFunction listed[] = {
#include "functions.inc"
    };
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++)
        if (listed[i] == NULL) return 1;
    printf("%zu functions, version %s\n", sizeof listed / sizeof listed[0], aichat_version());
    return 0;
}
