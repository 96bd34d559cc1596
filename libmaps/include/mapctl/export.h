// mapctl/export.h - symbol visibility for the shared library.

#ifndef MAPCTL_EXPORT_H_
#define MAPCTL_EXPORT_H_

#if defined(MAPCTL_BUILDING_LIBRARY)
#define MAPCTL_EXPORT [[gnu::visibility("default")]]
#else
#define MAPCTL_EXPORT
#endif

#endif  // MAPCTL_EXPORT_H_
