/*
 * Injected faults, for the tests: the environment variable NST_FAULT makes
 * chosen driver calls of an engine fail as a failing driver or device
 * would, so that every error path can be taken on a real device.
 *
 *   NST_FAULT=POINT[@N[+]][,POINT...]
 *
 * fails the Nth time (from 1; default 1) the engine reaches POINT, or with
 * "+" the Nth and every later time. Counts are per engine; submit and hang
 * count frames (their one compute submission each), not set-up work such
 * as the weights' upload. Points:
 *
 *   instance  vkCreateInstance         VK_ERROR_INITIALIZATION_FAILED
 *   device    vkCreateDevice           VK_ERROR_INITIALIZATION_FAILED
 *   compute   the devices' queue families report no compute queue
 *   alloc     vkAllocateMemory         VK_ERROR_OUT_OF_DEVICE_MEMORY
 *   submit    a frame's vkQueueSubmit  VK_ERROR_DEVICE_LOST
 *   hang      the wait for a frame     VK_TIMEOUT at once, as if the device
 *                                      never finished it
 *
 * Unset or empty, it costs a branch per call.
 */
#ifndef NST_FAULT_H
#define NST_FAULT_H

#include "util/log.h"

typedef enum NstFaultPoint {
    NST_FAULT_INSTANCE,
    NST_FAULT_DEVICE,
    NST_FAULT_COMPUTE,
    NST_FAULT_ALLOC,
    NST_FAULT_SUBMIT,
    NST_FAULT_HANG,
    NST_FAULT_NB
} NstFaultPoint;

typedef struct NstFaults {
    int any;                                  /* any point armed */
    unsigned long long seen[NST_FAULT_NB];    /* times each point was reached */
    unsigned long long at[NST_FAULT_NB];      /* fail at this one; 0: never */
    unsigned char onward[NST_FAULT_NB];       /* and at every later one */
} NstFaults;

/* Arms the faults of spec (NULL or "": none). A spec that does not parse
 * is refused with NST_ERR_INVALID and a message naming the bad part. */
int nst_faults_init(NstFaults *f, const char *spec, const NstLog *log);

/* Counts one arrival at point; 1 if this one must fail (logged as an
 * injected fault, so that a test log tells it from a real one). */
int nst_fault(NstFaults *f, NstFaultPoint point, const NstLog *log);

#endif
