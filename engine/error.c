/* Error strings of the public API. */
#include "nst.h"

const char *nst_strerror(int err)
{
    switch (err) {
    case NST_OK:              return "success";
    case NST_ERR_INVALID:     return "invalid argument";
    case NST_ERR_IO:          return "cannot read file";
    case NST_ERR_FORMAT:      return "malformed model file";
    case NST_ERR_UNSUPPORTED: return "unsupported model";
    case NST_ERR_NOMEM:       return "out of memory";
    case NST_ERR_DEVICE:      return "Vulkan device error";
    case NST_ERR_LIMITS:      return "frame exceeds the device's limits";
    case NST_ERR_AGAIN:       return "try again after receiving or submitting a frame";
    }
    return "unknown error";
}
