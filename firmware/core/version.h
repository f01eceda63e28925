// The firmware's own version, sent in the hello line; a test keeps it equal to package.json's.
#ifndef PW_VERSION_H
#define PW_VERSION_H
#define PW_FIRMWARE_VERSION "0.1.0"
#endif
