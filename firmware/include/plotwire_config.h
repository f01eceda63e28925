/* plotwire_config.h: what the firmware does, chosen at build time. Override any of these with
 * -D flags (platformio.ini build_flags); protocol constants come from plotwire_protocol.h. */
#ifndef PLOTWIRE_CONFIG_H
#define PLOTWIRE_CONFIG_H

#include "plotwire_protocol.h"

/* What the board runs. */
#define PW_APP_ECG 0    /* heart rate from an ECG front end (AD8232), lead-off pins optional */
#define PW_APP_PPG 1    /* heart rate from a pulse sensor */
#define PW_APP_ANALOG 2 /* plain analog channels A0..A5 (PW_ANALOG_MASK) at PW_RATE_HZ */
#define PW_APP_MOCK 3   /* a synthetic ECG, for a board with nothing attached */
#ifndef PW_APP
#define PW_APP PW_APP_ECG
#endif

/* The heart-rate modes sample PW_DEFAULT_SAMPLE_RATE_HZ and pack PW_DEFAULT_SAMPLES_PER_LINE
 * samples a line: ~60 bytes 100 times a second, half of what PW_DEFAULT_BAUD carries. */
#if PW_APP == PW_APP_ANALOG
#ifndef PW_RATE_HZ
#define PW_RATE_HZ 100u
#endif
#ifndef PW_SAMPLES_PER_LINE
#define PW_SAMPLES_PER_LINE 1u
#endif
#else
#ifndef PW_RATE_HZ
#define PW_RATE_HZ PW_DEFAULT_SAMPLE_RATE_HZ
#endif
#ifndef PW_SAMPLES_PER_LINE
#define PW_SAMPLES_PER_LINE PW_DEFAULT_SAMPLES_PER_LINE
#endif
#endif

/* ANALOG: bit i samples Ai. */
#ifndef PW_ANALOG_MASK
#define PW_ANALOG_MASK 0x01u
#endif

/* Heart modes: the analog input (0 = A0) and the AD8232's LO+ / LO- pins (-1: not wired). */
#ifndef PW_SIGNAL_INPUT
#define PW_SIGNAL_INPUT 0
#endif
#ifndef PW_LEAD_OFF_PLUS_PIN
#define PW_LEAD_OFF_PLUS_PIN 10
#endif
#ifndef PW_LEAD_OFF_MINUS_PIN
#define PW_LEAD_OFF_MINUS_PIN 11
#endif

#ifndef PW_BAUD
#define PW_BAUD PW_DEFAULT_BAUD
#endif
/* The port the lines go to; on a Yún, Serial1 reaches the Linux side instead of USB. */
#ifndef PW_SERIAL
#define PW_SERIAL Serial
#endif

/* Buffers: frames between the sampling interrupt and the loop, bytes waiting for the link, one
 * line being built. */
#ifndef PW_RING_DEPTH
#define PW_RING_DEPTH 8
#endif
#ifndef PW_OUTBOX_BYTES
#define PW_OUTBOX_BYTES 256
#endif
#ifndef PW_LINE_BYTES
#define PW_LINE_BYTES 128
#endif

#define PW_BIT_COUNT(m) (((m) & 1) + (((m) >> 1) & 1) + (((m) >> 2) & 1) + (((m) >> 3) & 1) + (((m) >> 4) & 1) + (((m) >> 5) & 1))
#if PW_APP == PW_APP_ANALOG
#define PW_CHANNELS PW_BIT_COUNT(PW_ANALOG_MASK)
#else
#define PW_CHANNELS 1
#endif

#if PW_LINE_BYTES > PW_MAX_LINE
#error "PW_LINE_BYTES must not exceed the protocol's PW_MAX_LINE"
#endif

#endif
