// libfluidsynth for Swift (Debian: libfluidsynth-dev).
#ifndef ACCOMPANIST_CFLUIDSYNTH_SHIM_H
#define ACCOMPANIST_CFLUIDSYNTH_SHIM_H
#include <fluidsynth.h>
#endif
